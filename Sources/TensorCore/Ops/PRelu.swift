/// `x if x ≥ 0 else slope · x`: `[x, slope]`, the slope broadcast to x without its batch axis.
public struct PRelu: OpDefinition {
    /// The op (it has no attributes).
    public init() {}

    public var name: String { "PRelu" }
    public var signature: OpSignature { OpSignature([.data, .slope]) }
    public var trainableInputs: [Int] { [1] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        .passThrough(
            blocked: .none, perChannel: [PerChannelInput(input: 1, axis: nil, mustBeConstant: true)],
            reason: "has a slope that is not a constant")
    }
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0), slope = try check.input(inputs, 1)
        guard slope.count < x.count, ShapeInference.broadcastable(Array(x.dropFirst()), slope) else {
            throw check.fail("slope \(slope) does not broadcast to \(x)")
        }
        return [x]
    }

    /// Not counted (elementwise).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
