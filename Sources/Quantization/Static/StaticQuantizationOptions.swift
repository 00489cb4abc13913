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

/// Options of static post-training quantization.
public struct StaticQuantizationOptions: Sendable {
    /// Activation range method.
    public var method = CalibrationMethod.minmax
    /// Percentile for `.percentile`, in (0, 100].
    public var percentile = 99.99
    /// Weight granularity (weights are always symmetric int8).
    public var weights = WeightGranularity.perChannel
    /// Activation type: `.uint8` asymmetric or `.int8` symmetric.
    public var activations = QuantizedElementType.uint8
    /// Layer or node names left in float.
    public var exclude: Set<String> = []

    /// The defaults: min/max, per-channel weights, uint8 activations.
    public init() {}
}
