/// The Keras mask of a sequence: `x` N×L (token ids) or N×L×F → `m` N×L, 1 where step `t`
/// differs from `value` (in any feature, for N×L×F), else 0. Keras `Embedding(mask_zero=True)`
/// (value 0 on the ids) and `Masking(mask_value)`; recurrent layers and attention read it.
public struct StepMask: OpDefinition {
    /// The value that marks a padded step.
    public var value: Float

    /// A mask of the steps that differ from `value`.
    public init(value: Float) { self.value = value }

    public var name: String { "StepMask" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .refuses("a step mask reads every feature of a step") }
    /// Stays float (a 0/1 mask).
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float32(reason: "it compares token ids exactly, and float16 holds whole numbers exactly only up to 2048") }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard x.count == 2 || x.count == 3, x[1] >= 1 else { throw check.fail("expects ids N×L or a sequence N×L×F, got \(x)") }
        return [[x[0], x[1]]]
    }

    /// Not counted (a comparison).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
