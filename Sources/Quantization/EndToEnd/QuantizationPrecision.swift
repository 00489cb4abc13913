/// What `modelpress quantize --precision` writes.
public enum QuantizationPrecision: String, Sendable, CaseIterable {
    /// Integer quantization: int8 (or int16 with `--bits 16`), static or dynamic.
    case int8
    /// Float16 weights and computation.
    case fp16
    /// Float16 weights, float32 computation.
    case fp16Weights = "fp16-weights"
    /// 4-bit Dense / Embedding weights in blocks, float activations.
    case int4Weights = "int4-weights"
    /// 8-bit Dense / Embedding weights in blocks, float activations.
    case int8Weights = "int8-weights"
    /// A precision per Conv / Dense layer (int8, fp16, fp32), searched under `--max-drop` or `--max-bytes`.
    case mixed

    /// The float16 form, nil for integer quantization.
    public var halfPrecisionForm: HalfPrecisionOptions.Form? {
        switch self {
        case .int8, .int4Weights, .int8Weights, .mixed: nil
        case .fp16: .compute
        case .fp16Weights: .weightsOnly
        }
    }

    /// Bits of weight-only block quantization, nil otherwise.
    public var weightOnlyBits: Int? {
        switch self {
        case .int8, .fp16, .fp16Weights, .mixed: nil
        case .int4Weights: 4
        case .int8Weights: 8
        }
    }
}
