import TensorCore

/// The ONNX versions ModelPress writes: opsets 13…21 of the default `ai.onnx` domain, each
/// with the IR version the onnx release that introduced it uses (onnx `VERSION_TABLE`:
/// 13–14 → 7, 15–18 → 8, 19–20 → 9, 21 → 10).
public enum ONNXVersions {
    /// Opsets `modelpress export --opset` accepts.
    public static let supportedOpsets: ClosedRange<Int> = 13...21
    /// The opset written when none is asked for (the widest runtime support).
    public static let defaultOpset = 13
    /// The opset 16-bit QuantizeLinear / DequantizeLinear need (the default of 16-bit quantization).
    public static let int16QuantizationOpset = 21

    /// The range as people write it, for help texts: `13–21`.
    public static let supportedOpsetText = "\(supportedOpsets.lowerBound)–\(supportedOpsets.upperBound)"

    /// Fails with `invalidArgument` when `opset` is outside `supportedOpsets`.
    public static func validate(opset: Int) throws {
        guard supportedOpsets.contains(opset) else {
            throw ModelPressError.invalidArgument("--opset \(opset) is not supported; choose \(supportedOpsets.lowerBound) to \(supportedOpsets.upperBound).")
        }
    }

    /// The `ir_version` written with `opset`.
    public static func irVersion(forOpset opset: Int) -> Int64 {
        switch opset {
        case ...14: return 7
        case 15...18: return 8
        case 19...20: return 9
        default: return 10
        }
    }
}

/// `TensorProto.DataType` codes ModelPress reads or writes.
enum ONNXDataType {
    static let float: Int32 = 1
    static let uint8: Int32 = 2
    static let int8: Int32 = 3
    static let uint16: Int32 = 4
    static let int16: Int32 = 5
    static let int32: Int32 = 6
    static let int64: Int32 = 7
    static let bool: Int32 = 9
    static let float16: Int32 = 10
    static let double: Int32 = 11
    static let uint32: Int32 = 12
    static let uint64: Int32 = 13
    static let bfloat16: Int32 = 16
    static let uint4: Int32 = 21
    static let int4: Int32 = 22

    /// The code of a graph value's declared element type.
    static func code(of type: ElementType) -> Int32 {
        switch type {
        case .float32: float
        case .int32: int32
        case .int64: int64
        }
    }

    /// The element type a graph input with `code` declares, or nil when ModelPress does not read it.
    static func elementType(of code: Int32) -> ElementType? {
        [ElementType.float32, .int32, .int64].first { self.code(of: $0) == code }
    }
}
