/// Softmax along one axis (non-negative, never the batch axis).
public struct Softmax: OpDefinition {
    /// The normalized axis.
    public var axis: Int

    /// Softmax along `axis`.
    public init(axis: Int) { self.axis = axis }

    public var name: String { "Softmax" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .passThrough(blocked: .axes([axis]), perChannel: [], reason: "normalizes across them") }
    /// Stays float unless selected: its outputs in [0, 1] span many decades.
    public var quantizationRole: QuantizationRole { .floatUnlessSelected }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard axis >= 1, axis < x.count else { throw check.fail("axis \(axis) out of range for \(x)") }
        return [x]
    }

    /// Not counted (elementwise).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
