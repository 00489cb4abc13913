/// How float16 precision plans treat an op (`modelpress quantize --precision fp16`): read by
/// the planner, the engine (which rounds what the file would hold in float16) and the ONNX
/// exporter (which writes the float16 types and the Casts between precisions).
public enum HalfPrecisionRule: Hashable, Sendable {
    /// Computes in float16: its float inputs are read as float16 and its outputs are float16.
    /// `indexInputs`: positions read as integers (token ids), which stay exact.
    case float16(indexInputs: [Int])
    /// Float16 from `opset` on, where ONNX has one op for it that accumulates in float32;
    /// float32 below, for `reason`.
    case float16FromOpset(Int, reason: String)
    /// Stays float32, for `reason`.
    case float32(reason: String)

    /// Computes in float16 and reads no ids.
    public static let float16 = HalfPrecisionRule.float16(indexInputs: [])

    /// Whether the op computes in float16 at `opset`, or why not.
    public func reasonForFloat32(opset: Int) -> String? {
        switch self {
        case .float16: return nil
        case .float16FromOpset(let first, let reason): return opset >= first ? nil : "\(reason) (float16 from opset \(first))"
        case .float32(let reason): return reason
        }
    }

    /// Input positions read as integers, never rounded to float16.
    public var indexInputs: [Int] {
        if case .float16(let indices) = self { return indices }
        return []
    }
}
