import TensorCore

/// Settings of weight-only block-wise quantization (`quantize --precision int4-weights |
/// int8-weights`): Dense / MatMul kernels and Embedding tables stored as 4- or 8-bit integers in
/// blocks along their input dimension, one scale (and zero point) per block; activations stay float.
public struct WeightOnlyOptions: Sendable, Equatable {
    /// Signed integers and zero points 0, or unsigned with a zero point per block.
    public enum Scheme: String, Sendable, CaseIterable {
        /// Signed integers, zero point 0.
        case symmetric
        /// Unsigned integers, a zero point per block.
        case asymmetric
    }

    /// How each block's scale is chosen.
    public enum ScaleSearch: String, Sendable, CaseIterable {
        /// Round to nearest: the block's full range maps onto the integer range.
        case rtn
        /// The clipping of the range (100 % down to 55 %) with the least squared error in the block.
        case mse
    }

    /// How block scales are stored.
    public enum ScaleType: String, Sendable, CaseIterable {
        /// float16 scales (2 bytes per block); the DequantizeLinear writes float16 and a Cast
        /// makes it float32. A layer whose scales float16 cannot hold keeps float32 scales.
        case float16
        /// float32 scales (4 bytes per block), as MatMulNBits takes them.
        case float32
    }

    /// Bits per weight: 4 or 8.
    public var bits = 4
    /// Weights per block along the input dimension (a power of two from 16 to 256); the last
    /// block of a dimension it does not divide is shorter (ONNX's rule).
    public var blockSize = 32
    /// Symmetric (signed integers, zero point 0) or asymmetric (unsigned, a zero point per block).
    public var scheme = Scheme.symmetric
    /// Scale choice per block.
    public var scales = ScaleSearch.mse
    /// How scales are stored: float16 by default (int4 in blocks of 32: 4.5 bits per weight
    /// instead of 5); MatMulNBits layers need float32.
    public var scaleType = ScaleType.float16
    /// Scale Dense layers' input channels by their calibrated mean |x| before quantizing
    /// (`ActivationAwareScaling`); needs calibration data.
    public var activationAware = false
    /// Layers (or IR nodes) kept float.
    public var exclude: Set<String> = []
    /// The opset written: blocked DequantizeLinear and 4-bit types need 21.
    public var opset = 21
    /// Write Dense layers as onnxruntime's `com.microsoft` MatMulNBits (any opset) instead of
    /// the standard DequantizeLinear → Gemm / MatMul.
    public var allowContribOps = false

    /// The defaults: int4, blocks of 32, symmetric, MSE-chosen float16 scales, opset 21.
    public init() {}

    /// The stored integer type.
    public var type: QuantizedElementType {
        switch (bits, scheme) {
        case (4, .symmetric): .int4
        case (4, .asymmetric): .uint4
        case (_, .symmetric): .int8
        case (_, .asymmetric): .uint8
        }
    }
}
