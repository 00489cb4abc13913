/// 2-D convolution: `[x N×C×H×W, w O×(C/group)×kh×kw, b? O] → N×O×OH×OW`; `group == C` with
/// `O = k·C` is a depthwise convolution.
public struct Conv2DAttributes: OpDefinition {
    /// Kernel height and width.
    public var kernel: Size2D
    /// Vertical and horizontal stride.
    public var strides: Size2D
    /// Vertical and horizontal dilation.
    public var dilations: Size2D
    /// Zero padding on each side.
    public var pads: Padding2D
    /// Number of groups.
    public var group: Int

    /// Attributes with the given values; no padding by default.
    public init(kernel: Size2D, strides: Size2D = .one, dilations: Size2D = .one, pads: Padding2D = .zero, group: Int = 1) {
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.pads = pads
        self.group = group
    }

    public var name: String { group > 1 ? "Conv(g=\(group))" : "Conv" }
    public var signature: OpSignature { OpSignature([.data, .weight], optional: [.bias]) }
    public var trainableInputs: [Int] { [1, 2] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        group == 1 ? .filters(consumes: 1, produces: 0, inputAxis: 1, outputAxis: 1) : .grouped(groups: group)
    }
    public var quantizationRole: QuantizationRole { .compute(weightChannelAxis: 0, integerKernel: true) }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0), w = try check.input(inputs, 1)
        guard x.count == 4, w.count == 4 else { throw check.fail("expects 4-D input and weights, got \(x) and \(w)") }
        guard group >= 1, x[1] % group == 0, w[0] % group == 0, w[1] * group == x[1] else {
            throw check.fail("weights \(w) with group \(group) do not fit input channels \(x[1])")
        }
        guard w[2] == kernel.height, w[3] == kernel.width else { throw check.fail("weights \(w) do not match kernel \(kernel)") }
        if inputs.count > 2, inputs[2] != [w[0]] { throw check.fail("bias \(inputs[2]) does not match \(w[0]) filters") }
        let oh = try check.window(x[2], kernel: kernel.height, stride: strides.height, dilation: dilations.height, padding: pads.vertical)
        let ow = try check.window(x[3], kernel: kernel.width, stride: strides.width, dilation: dilations.width, padding: pads.horizontal)
        return [[x[0], w[0], oh, ow]]
    }

    /// One multiply-add per output cell and weight of its group: `OH·OW·O · (C/group)·kh·kw`.
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int {
        guard inputs.count > 1, inputs[1].count == 4, let out = outputs.first else { return 0 }
        return Checked.product(Array(out.dropFirst()) + [inputs[1][1], kernel.height, kernel.width]) ?? 0
    }
}
