/// Crop to `[begin, end)` on every axis (end exclusive; the batch axis is untouched).
public struct Slice: OpDefinition {
    /// First kept index per axis.
    public var begin: [Int]
    /// One past the last kept index per axis.
    public var end: [Int]
    /// A crop to `[begin, end)`.
    public init(begin: [Int], end: [Int]) {
        self.begin = begin
        self.end = end
    }

    public var name: String { "Slice" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    /// Channels pass along the axes it keeps whole (`begin` 0, `end` the extent).
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        let x = inputs.first ?? []
        return .passThrough(
            blocked: .axes(Set(begin.indices.filter { $0 >= x.count || begin[$0] != 0 || end[$0] != x[$0] })),
            perChannel: [], reason: "crops their axis")
    }
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard begin.count == x.count, end.count == x.count else { throw check.fail("slice rank does not match \(x)") }
        return [
            try (0..<x.count).map { i in
                if i == 0 { return x[0] }
                guard begin[i] >= 0, end[i] <= x[i], begin[i] < end[i] else { throw check.fail("slice [\(begin), \(end)) empty or outside \(x)") }
                return end[i] - begin[i]
            }
        ]
    }

    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
