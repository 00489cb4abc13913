/// Inference batch normalization over axis 1: `[x N×C×…, scale C, offset C, mean C, variance C] → x`'s shape.
public struct BatchNormalization: OpDefinition {
    /// Added to the variance before the square root.
    public var epsilon: Float

    /// Batch normalization with `epsilon`.
    public init(epsilon: Float) { self.epsilon = epsilon }

    public var name: String { "BatchNormalization" }
    public var signature: OpSignature { OpSignature([.data, .scale, .offset, .mean, .variance]) }
    public var trainableInputs: [Int] { [1, 2] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        .passThrough(
            blocked: .allBut(axis: 1, rank: nil),
            perChannel: (1...4).map { PerChannelInput(input: $0, axis: 0, mustBeConstant: true) },
            reason: "reads them other than along axis 1")
    }
    /// Folded into the convolution before quantization; left float where it is not.
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard x.count >= 2 else { throw check.fail("expects a channel axis, got \(x)") }
        for i in 1..<5 where try check.input(inputs, i) != [x[1]] {
            throw check.fail("parameter \(i) has shape \(inputs[i]), expected [\(x[1])]")
        }
        return [x]
    }

    /// Not counted (elementwise).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
