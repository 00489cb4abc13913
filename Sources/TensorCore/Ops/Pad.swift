/// Zero padding `[begin_0, …, begin_{r-1}, end_0, …, end_{r-1}]` over all axes (none on the batch axis).
public struct Pad: OpDefinition {
    /// Cells added before, then after, each axis.
    public var pads: [Int]
    /// Zero padding by `pads`.
    public init(_ pads: [Int]) { self.pads = pads }

    public var name: String { "Pad" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        let rank = pads.count / 2
        return .passThrough(
            blocked: .axes(Set((0..<rank).filter { pads[$0] != 0 || pads[$0 + rank] != 0 })), perChannel: [],
            reason: "pads their axis")
    }
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard pads.count == 2 * x.count, pads.allSatisfy({ $0 >= 0 }), pads[0] == 0, pads[x.count] == 0 else {
            throw check.fail("invalid pads \(pads) for \(x)")
        }
        return [
            try (0..<x.count).map { i in
                if i == 0 { return x[0] }
                guard let n = Checked.add(x[i], pads[i]).flatMap({ Checked.add($0, pads[i + x.count]) }) else { throw check.fail("padded shape overflows") }
                return n
            }
        ]
    }

    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
