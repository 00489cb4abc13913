/// The product of two activations over their last two axes: `[a N×…×M×K, b N×…×K×P] → N×…×M×P`,
/// one product per leading index (the same leading axes, batch first): attention's `Q·Kᵀ` and
/// `A·V` (ONNX `MatMul` of two run-time values; a constant right-hand side is `linear`).
public struct MatMul: OpDefinition {
    /// The product.
    public init() {}

    public var name: String { "MatMul" }
    public var signature: OpSignature { OpSignature([.data, .data]) }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .refuses("a product of two activations ties their channels together") }
    /// Stays float unless selected (both operands are activations; onnxruntime quantizes both).
    public var quantizationRole: QuantizationRole { .floatUnlessSelected }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let a = try check.input(inputs, 0), b = try check.input(inputs, 1)
        guard a.count >= 3, b.count == a.count, a.dropLast(2) == b.dropLast(2), a[a.count - 1] == b[b.count - 2] else {
            throw check.fail("multiplies \(a) by \(b); expects N×…×M×K and N×…×K×P with the same leading axes")
        }
        return [Array(a.dropLast()) + [b[b.count - 1]]]
    }

    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int {
        guard inputs.count == 2, inputs[0].count >= 3 else { return 0 }
        let a = inputs[0], b = inputs[1]
        return a.dropFirst().reduce(1, *) * b[b.count - 1]
    }
}
