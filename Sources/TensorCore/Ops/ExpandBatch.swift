/// A constant repeated over the batch: `[reference N×…, c 1×…] → N×c.shape[1…]`, the batch size
/// taken from `reference` (any batch-first value). ViT's class token before its patches (ONNX
/// `Expand` of a constant to a shape read from the input).
public struct ExpandBatch: OpDefinition {
    /// The repetition.
    public init() {}

    public var name: String { "ExpandBatch" }
    public var signature: OpSignature { OpSignature([.data, .weight]) }
    /// The constant is a learned parameter (a class token).
    public var trainableInputs: [Int] { [1] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .refuses("it repeats a constant") }
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let reference = try check.input(inputs, 0), c = try check.input(inputs, 1)
        guard !reference.isEmpty, c.count >= 2, c[0] == 1 else { throw check.fail("repeats \(c) over the batch of \(reference); expects a 1×… constant") }
        return [[reference[0]] + c.dropFirst()]
    }

    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
