/// Variadic elementwise operations with numpy broadcasting (`subtract`, `divide`: two inputs).
public enum ElementwiseOp: String, OpDefinition, CaseIterable {
    case add, subtract, multiply, divide, maximum, minimum, mean

    public var name: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
    public var signature: OpSignature { .variadic }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .ties }
    /// Add runs between quantized tensors (residual connections); the others stay float.
    public var quantizationRole: QuantizationRole {
        switch self {
        case .add: return .requantized
        case .subtract, .multiply, .divide, .maximum, .minimum, .mean: return .float
        }
    }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        guard !inputs.isEmpty else { throw check.fail("needs inputs") }
        if (self == .subtract || self == .divide) && inputs.count != 2 { throw check.fail("takes exactly two inputs") }
        var shape = inputs[0]
        for s in inputs.dropFirst() {
            guard let b = ShapeInference.broadcastShape(shape, s) else { throw check.fail("shapes \(shape) and \(s) do not broadcast") }
            shape = b
        }
        return [shape]
    }

    /// Not counted (elementwise).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
