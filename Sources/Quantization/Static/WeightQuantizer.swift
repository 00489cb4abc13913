import TensorCore

/// Symmetric int8 / int16 weight parameters and int32 bias parameters.
public enum WeightQuantizer {
    /// Symmetric int8 parameters for `weights` (zero point 0, `scale = max|w| / 127`), one
    /// per index of `axis` (the output-channel axis) or one for the tensor when `axis` is nil.
    /// All-zero channels get scale 1 (any positive scale represents them exactly).
    public static func symmetricInt8(_ weights: Tensor, axis: Int?) -> TensorQuantization {
        symmetric(weights, axis: axis, type: .int8, scheme: .affine)
    }

    /// Symmetric parameters of `type` (`max|w| / levels`; levels default to the type's maximum:
    /// int8 127, int16 32767) per index of `axis` or per tensor; with `.pow2` each scale is
    /// rounded up to a power of two.
    public static func symmetric(_ weights: Tensor, axis: Int?, type: QuantizedElementType, scheme: QuantizationScheme, levels: Int? = nil) -> TensorQuantization {
        let q = affine(weights, axis: axis, type: type, levels: Float(levels ?? Int(type.max)))
        return scheme == .pow2 ? q.powerOfTwo() : q
    }

    private static func affine(_ weights: Tensor, axis: Int?, type: QuantizedElementType, levels: Float) -> TensorQuantization {
        let scale = { (bound: Float) -> Float in bound > 0 ? bound / levels : 1 }
        guard let axis, axis < weights.rank else {
            let bound = weights.storage.reduce(Float(0)) { max($0, abs($1)) }
            return TensorQuantization(scales: [scale(bound)], zeroPoints: [0], axis: nil, type: type)
        }
        let bounds = weights.absMax(alongAxis: axis)
        return TensorQuantization(scales: bounds.map(scale), zeroPoints: [Int32](repeating: 0, count: bounds.count), axis: axis, type: type)
    }

    /// int32 bias parameters: `scale_c = s_in · s_w,c`, zero point 0, along axis 0 of the bias
    /// when the weights are per channel — what integer runtimes accumulate into.
    public static func int32Bias(inputScale: Float, weights: TensorQuantization) -> TensorQuantization {
        let scales = weights.scales.map { inputScale * $0 }
        return TensorQuantization(
            scales: scales, zeroPoints: [Int32](repeating: 0, count: scales.count),
            axis: scales.count > 1 ? 0 : nil, type: .int32)
    }

    /// `int32Bias`, with every scale multiplied by the smallest power of two `2^k` for which
    /// `bias` fits int32 (k = 0, the accumulator's grid, unless 16-bit operands make that grid
    /// too fine). A float bias is no way out: onnxruntime's QDQ optimizer quantizes a float
    /// Conv bias to int32 at `s_x·s_w` itself, without a saturation check.
    public static func int32Bias(inputScale: Float, weights: TensorQuantization, fitting bias: Tensor) -> TensorQuantization {
        var q = int32Bias(inputScale: inputScale, weights: weights)
        var k = 0
        while !fitsInt32(bias, q), k < 64 {
            q.scales = q.scales.map { $0 * 2 }
            k += 1
        }
        return q
    }

    /// Whether every value of `bias` fits int32 on the grid `q` (16-bit operands make the
    /// accumulator's grid `s_x·s_w` fine enough that a large bias could saturate).
    public static func fitsInt32(_ bias: Tensor, _ q: TensorQuantization) -> Bool {
        bias.storage.enumerated().allSatisfy { c, v in
            abs(Double(v) / Double(q.scales[q.scales.count == 1 ? 0 : c])) < Double(Int32.max) - 1
        }
    }
}
