/// Layer normalization over the trailing axes from `axis` on:
/// `y = (x − mean) / sqrt(var + epsilon) · scale + offset`, mean and (biased) variance taken
/// over axes `axis…r−1` of each sample; `[x, scale, offset?]`, scale and offset shaped like
/// those trailing axes (ONNX `LayerNormalization`, Keras `LayerNormalization`).
public struct LayerNormalization: OpDefinition {
    /// The first normalized axis (≥ 1); every later axis is normalized too.
    public var axis: Int
    /// Added to the variance before the square root.
    public var epsilon: Float

    /// Layer normalization from `axis` on.
    public init(axis: Int, epsilon: Float) {
        self.axis = axis
        self.epsilon = epsilon
    }

    public var name: String { "LayerNormalization" }
    public var signature: OpSignature { OpSignature([.data, .scale], optional: [.offset]) }
    public var trainableInputs: [Int] { [1, 2] }
    /// Channels on the axes it does not normalize pass; the normalized ones are mixed.
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        let rank = inputs.first?.count ?? 0
        return .passThrough(blocked: .axes(Set(axis..<max(axis, rank))), perChannel: [], reason: "normalizes across them")
    }
    /// Stays float unless selected: int8 statistics lose too much (onnxruntime quantizes its
    /// opset-17 op by default).
    public var quantizationRole: QuantizationRole { .floatUnlessSelected }
    public var halfPrecision: HalfPrecisionRule { .float16FromOpset(17, reason: "below opset 17 it is written as ReduceMean/Pow/Sqrt, whose squared deviations overflow float16 once they pass 255") }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard axis >= 1, axis < x.count else { throw check.fail("axis \(axis) out of range for \(x)") }
        let trailing = Array(x[axis...])
        for i in 1..<inputs.count where inputs[i] != trailing {
            throw check.fail("parameter \(i) has shape \(inputs[i]), expected \(trailing)")
        }
        return [x]
    }

    /// Not counted (elementwise).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
