/// What `modelpress quantize --precision` writes.
public enum QuantizationPrecision: String, Sendable, CaseIterable {
    /// Integer quantization: int8 (or int16 with `--bits 16`), static or dynamic.
    case int8
    /// Float16 weights and computation.
    case fp16
    /// Float16 weights, float32 computation.
    case fp16Weights = "fp16-weights"

    /// The float16 form, nil for integer quantization.
    public var halfPrecisionForm: HalfPrecisionOptions.Form? {
        switch self {
        case .int8: nil
        case .fp16: .compute
        case .fp16Weights: .weightsOnly
        }
    }
}
