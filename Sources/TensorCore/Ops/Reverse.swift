/// Reverses the order along one axis: `y[…, i, …] = x[…, n−1−i, …]` (Keras `go_backwards`
/// sequences, `ops.flip`; ONNX `Slice` with step −1).
public struct Reverse: OpDefinition {
    /// The reversed axis (never the batch axis).
    public var axis: Int

    /// A reversal of `axis`.
    public init(axis: Int) { self.axis = axis }

    public var name: String { "Reverse" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .passThrough(blocked: .axes([axis]), perChannel: [], reason: "reverses them") }
    public var quantizationRole: QuantizationRole { .transparent }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard axis >= 1, axis < x.count else { throw check.fail("axis \(axis) out of range for \(x)") }
        return [x]
    }

    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
