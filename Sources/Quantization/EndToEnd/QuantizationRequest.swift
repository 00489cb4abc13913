import ONNXIO
import TensorCore

/// Everything `PostTrainingQuantization.run` needs to know besides the model and the data:
/// the settings of `modelpress quantize` and of a pipeline's quantize stage.
public struct QuantizationRequest: Sendable {
    /// Calibration method, weight granularity, activation type, scheme and float layers.
    public var options = StaticQuantizationOptions()
    /// Dynamic quantization (int8 weights, activations quantized at run time, no calibration).
    public var dynamic = false
    /// The ONNX form of a static file (QDQ or QOperator); dynamic files have their own.
    public var form = ONNXExportOptions.QuantizedForm.qdq
    /// ONNX opset; nil: 13, or 21 for 16-bit.
    public var opset: Int?
    /// Calibrate on the first N samples (nil: all).
    public var samples: Int?
    /// Samples per engine batch (calibration, budget, error measurement).
    public var batchSize = 64
    /// Accuracy budget (absolute top-1 drop vs float on the test set), if any.
    public var maxDrop: Double?
    /// Cross-layer equalization of weight-layer chains before calibration (`--cross-layer-equalization`).
    public var crossLayerEqualization = false
    /// SmoothQuant's migration strength α (`--smoothquant-alpha`), or nil for no smoothing.
    public var smoothQuantAlpha: Float?
    /// Quantization-aware training before the final calibration (`--qat`), if any.
    public var qat: QuantizationAwareTraining?
    /// Measure each layer's output error (SQNR / MSE) on the calibration data: one more pass.
    public var measureErrors = true

    /// The defaults of `modelpress quantize`.
    public init() {}

    /// The opset written: 21 by default for 16-bit values and 4-bit weights (they exist in
    /// QuantizeLinear / DequantizeLinear from 21), else 13.
    public var effectiveOpset: Int {
        opset ?? (options.bits == 16 || options.fourBitWeights ? ONNXVersions.int16QuantizationOpset : ONNXVersions.defaultOpset)
    }

    /// The activation type for a requested one and a bit width: 8-bit names mean their 16-bit
    /// counterparts under `bits == 16` (so `--activations int8 --bits 16` is int16).
    public static func activationType(_ requested: QuantizedElementType, bits: Int) -> QuantizedElementType {
        guard bits == 16 else { return requested }
        switch requested {
        case .int8, .int16: return .int16
        case .uint8, .uint16: return .uint16
        case .int32, .int4, .uint4: return requested
        }
    }
}
