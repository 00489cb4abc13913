/// Splits one axis into consecutive parts: `x → [x[…, 0..<s0, …], x[…, s0..<s0+s1, …], …]`,
/// one output per part (ONNX `Split`).
public struct Split: OpDefinition {
    /// The split axis (non-negative, never the batch axis).
    public var axis: Int
    /// The length of each part along `axis`.
    public var sizes: [Int]
    /// A split of `axis` into parts of `sizes`.
    public init(axis: Int, sizes: [Int]) {
        self.axis = axis
        self.sizes = sizes
    }

    public var name: String { "Split" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        .passThrough(blocked: .axes([axis]), perChannel: [], reason: "splits along their axis")
    }
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard axis >= 1, axis < x.count else { throw check.fail("axis \(axis) out of range for \(x)") }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 1 }), Checked.sum(sizes) == x[axis] else {
            throw check.fail("parts \(sizes) do not add up to \(x[axis]) along axis \(axis)")
        }
        return sizes.map { n in
            var s = x
            s[axis] = n
            return s
        }
    }

    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
