/// Matrix product on the last axis: `[x …×K, w K×M, b? M] → …×M`.
public struct Linear: OpDefinition {
    /// The op (it has no attributes).
    public init() {}

    public var name: String { "Linear" }
    public var signature: OpSignature { OpSignature([.data, .weight], optional: [.bias]) }
    public var trainableInputs: [Int] { [1, 2] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .filters(consumes: 0, produces: 1, inputAxis: -1, outputAxis: -1) }
    public var quantizationRole: QuantizationRole { .compute(weightChannelAxis: 1, integerKernel: true) }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { BlockQuantizedWeight(input: 1, axis: 0) }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0), w = try check.input(inputs, 1)
        guard x.count >= 2, w.count == 2, x[x.count - 1] == w[0] else { throw check.fail("cannot multiply \(x) by weights \(w)") }
        if inputs.count > 2, inputs[2] != [w[1]] { throw check.fail("bias \(inputs[2]) does not match \(w[1]) units") }
        return [Array(x.dropLast()) + [w[1]]]
    }

    /// `K` multiply-adds per output element.
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int {
        guard inputs.count > 1, inputs[1].count == 2, let out = outputs.first, let cells = Checked.product(out.dropFirst()) else { return 0 }
        return Checked.multiply(cells, inputs[1][0]) ?? 0
    }
}
