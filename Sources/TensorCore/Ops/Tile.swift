/// Repeats the tensor `repeats[a]` times along each axis `a` (`repeats[0]` is 1: the batch is
/// never tiled) — ONNX `Tile`; TensorFlow's `repeat` (UpSampling2D) exports as Unsqueeze → Tile → Reshape.
public struct Tile: OpDefinition {
    /// Copies per axis, batch axis first (1).
    public var repeats: [Int]

    /// Tiling by `repeats`.
    public init(_ repeats: [Int]) { self.repeats = repeats }

    public var name: String { "Tile" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    /// Channels pass along the axes it does not repeat.
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        .passThrough(blocked: .axes(Set(repeats.indices.filter { repeats[$0] != 1 })), perChannel: [], reason: "repeats them")
    }
    public var quantizationRole: QuantizationRole { .transparent }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard repeats.count == x.count, repeats.first == 1, repeats.allSatisfy({ $0 >= 1 }) else {
            throw check.fail("repeats \(repeats) do not fit \(x) (one per axis, ≥ 1, the batch axis 1)")
        }
        return [
            try zip(x, repeats).enumerated().map { a, pair in
                guard a > 0 else { return pair.0 }
                guard let n = Checked.multiply(pair.0, pair.1) else { throw check.fail("tiling \(x) by \(repeats) overflows") }
                return n
            }
        ]
    }

    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
