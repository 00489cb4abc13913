/// Nearest-neighbour upsampling by an integer factor per axis (all axes, 1 on the batch axis).
public struct UpsampleNearest: OpDefinition {
    /// The factor per axis.
    public var scales: [Int]
    /// Upsampling by `scales`.
    public init(_ scales: [Int]) { self.scales = scales }

    public var name: String { "Upsample" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        .passThrough(blocked: .axes(Set(scales.indices.filter { scales[$0] != 1 })), perChannel: [], reason: "repeats along their axis")
    }
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard scales.count == x.count, scales.allSatisfy({ $0 >= 1 }), scales[0] == 1 else { throw check.fail("invalid scales \(scales) for \(x)") }
        return [
            try (0..<x.count).map { i in
                if i == 0 { return x[0] }
                guard let v = Checked.multiply(x[i], scales[i]) else { throw check.fail("upsampled shape overflows") }
                return v
            }
        ]
    }

    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
