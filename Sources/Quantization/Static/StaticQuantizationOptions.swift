import TensorCore

/// How activation ranges are chosen from calibration statistics.
public enum CalibrationMethod: String, Sendable, CaseIterable {
    /// Observed minimum and maximum.
    case minmax
    /// The `percentile`-th percentile of |x| (clips rare outliers).
    case percentile
    /// KL-divergence-optimal clipping of the |x| histogram (TensorRT-style).
    case entropy
    /// Clipping that minimises the expected squared quantization error.
    case mse
}

/// Weight quantization granularity.
public enum WeightGranularity: String, Sendable, CaseIterable {
    /// One scale per output channel (the default).
    case perChannel = "per-channel"
    /// One scale for the whole weight tensor.
    case perTensor = "per-tensor"
}

/// How scales are chosen.
public enum QuantizationScheme: String, Sendable, CaseIterable {
    /// Any positive scale (`range / levels`): the finest grid that holds the range.
    case affine
    /// Scales rounded up to a power of two (Q7 / Q15 fixed point): the range still fits, and
    /// every requantization multiplier `s_x·s_w / s_y` is a power of two, i.e. a pure shift.
    case pow2
}

/// Options of static post-training quantization.
public struct StaticQuantizationOptions: Sendable {
    /// Activation range method.
    public var method = CalibrationMethod.minmax
    /// Percentile for `.percentile`, in (0, 100].
    public var percentile = 99.99
    /// Weight granularity (weights are always symmetric, int4, int8 or int16 as `weightType`).
    public var weights = WeightGranularity.perChannel
    /// 4-bit Conv / Dense weights (−7…7, symmetric) with 8-bit activations (`--weight-bits 4`,
    /// QDQ at opset 21); otherwise weights have the activations' width.
    public var fourBitWeights = false
    /// Activation type: `.uint8` / `.uint16` asymmetric or `.int8` / `.int16` symmetric.
    public var activations = QuantizedElementType.uint8
    /// Scale scheme (affine or powers of two).
    public var scheme = QuantizationScheme.affine
    /// 7-bit int8 weights (`max|w| / 64`, values in −64…64), as onnxruntime's `reduce_range`:
    /// x86 uint8×int8 kernels without VNNI add pairs of products in int16, which full-range
    /// weights can saturate (2·255·127 > 32767); 64 is the largest magnitude that cannot
    /// (2·255·64 = 32640 ≤ 32767).
    public var reduceRange = false
    /// Layer or node names left in float.
    public var exclude: Set<String> = []
    /// Names of ops that stay float by default (`QuantizationRole.floatUnlessSelected`: MatMul
    /// of two activations, Softmax, LayerNormalization) to compute between int8 Q/DQ pairs
    /// instead (`--quantize-ops`), as onnxruntime's `op_types_to_quantize`.
    public var quantizeOps: Set<String> = []
    /// Also store the tables float ops read (Embedding) as int8, one scale per row
    /// (`--int8-tables`); off by default, as in onnxruntime's `quantize_static`.
    public var int8Tables = false
    /// Store LSTM weights (W and R) as int8 per output column, computed in float
    /// (`RecurrentWeightQuantizer`); `--float-recurrent` keeps them float32.
    public var recurrentWeights = true
    /// Layer or node names quantized with 16-bit weights and activations (the int16 layers of a
    /// precision plan); the values they read and write are 16-bit for every reader.
    public var sixteenBitLayers: Set<String> = []
    /// Subtract from each quantized Conv / Dense bias the mean output shift its quantized
    /// weights cause (`--bias-correction`; measured by `BiasCorrection.measure` into `biasShifts`).
    public var biasCorrection = false
    /// The measured shift per output channel, by node name: subtracted from the bias of every
    /// listed node that is quantized (a node returned to float keeps its bias).
    public var biasShifts: [String: [Float]] = [:]
    /// Activations left in float for all their readers (the accuracy budget's activation-level
    /// fallback): never Conv / Dense inputs or outputs, see `QuantizationPlan.activationCandidates`.
    public var floatValues: Set<String> = []

    /// The defaults: min/max, per-channel weights, uint8 activations.
    public init() {}

    /// Weight type: int4 with `fourBitWeights`, int16 when the activations are 16-bit, else int8.
    public var weightType: QuantizedElementType { fourBitWeights ? .int4 : activations.bits == 16 ? .int16 : .int8 }
    /// The largest weight magnitude in integer steps: the weight type's maximum (int4 7, int8
    /// 127, int16 32767), 64 with `reduceRange` (int8).
    public var weightLevels: Int { reduceRange && weightType == .int8 ? 64 : Int(weightType.max) }
    /// Bits of weights and activations (8 or 16).
    public var bits: Int { activations.bits }
    /// Whether activations are asymmetric (unsigned, with a zero point).
    public var asymmetricActivations: Bool { !activations.isSigned }
    /// The activation type of a value a 16-bit layer reads or writes (`wide`), else `activations`.
    public func activationType(wide: Bool) -> QuantizedElementType {
        wide ? QuantizationRequest.activationType(activations, bits: 16) : activations
    }
}
