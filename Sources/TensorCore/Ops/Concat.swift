/// Concatenation along one axis (non-negative, never the batch axis).
public struct Concat: OpDefinition {
    /// The joined axis.
    public var axis: Int
    /// Concatenation along `axis`.
    public init(axis: Int) { self.axis = axis }

    public var name: String { "Concat" }
    public var signature: OpSignature { .variadic }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .concatenates(axis: axis) }
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        var shape = try check.input(inputs, 0)
        guard axis >= 1, axis < shape.count else { throw check.fail("axis \(axis) out of range for \(shape)") }
        for s in inputs.dropFirst() {
            guard s.count == shape.count, (0..<s.count).allSatisfy({ $0 == axis || s[$0] == shape[$0] }),
                let joined = Checked.add(shape[axis], s[axis])
            else {
                throw check.fail("cannot concatenate \(shape) and \(s) along axis \(axis)")
            }
            shape[axis] = joined
        }
        return [shape]
    }

    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
