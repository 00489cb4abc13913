/// Transposed 2-D convolution (the adjoint of `Conv2DAttributes`'s convolution):
/// `[x N×C×H×W, w C×(O/group)×kh×kw, b? O] → N×O×OH×OW` with
/// `OH = (H − 1)·sh + (kh − 1)·dh + 1 − pads.vertical + outputPadding.height` (ONNX `ConvTranspose`).
public struct ConvTranspose2D: OpDefinition {
    /// Kernel height and width.
    public var kernel: Size2D
    /// Vertical and horizontal stride.
    public var strides: Size2D
    /// Vertical and horizontal dilation.
    public var dilations: Size2D
    /// Rows and columns cropped from each side of the full output.
    public var pads: Padding2D
    /// Rows and columns added at the bottom and right (each < the stride).
    public var outputPadding: Size2D
    /// Number of groups.
    public var group: Int

    /// Attributes with the given values; no padding by default.
    public init(kernel: Size2D, strides: Size2D = .one, dilations: Size2D = .one, pads: Padding2D = .zero, outputPadding: Size2D = Size2D(0, 0), group: Int = 1) {
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.pads = pads
        self.outputPadding = outputPadding
        self.group = group
    }

    /// The forward convolution this op is the adjoint of, over the N×O×OH×OW output.
    public var adjointConvolution: Conv2DAttributes {
        Conv2DAttributes(kernel: kernel, strides: strides, dilations: dilations, pads: pads, group: group)
    }

    public var name: String { "ConvTranspose" }
    public var signature: OpSignature { OpSignature([.data, .weight], optional: [.bias]) }
    public var trainableInputs: [Int] { [1, 2] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        group == 1 ? .filters(consumes: 0, produces: 1, inputAxis: 1, outputAxis: 1) : .refuses("a grouped ConvTranspose mixes channel groups")
    }
    /// Per-channel int8 weights along axis 1 (its output channels), as onnxruntime quantizes it;
    /// no integer kernel (ONNX has no QLinearConvTranspose).
    public var quantizationRole: QuantizationRole { .compute(weightChannelAxis: 1, integerKernel: false) }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0), w = try check.input(inputs, 1)
        guard x.count == 4, w.count == 4 else { throw check.fail("expects 4-D input and weights, got \(x) and \(w)") }
        guard group >= 1, w[0] == x[1], x[1] % group == 0 else { throw check.fail("weights \(w) with group \(group) do not fit input channels \(x[1])") }
        guard w[2] == kernel.height, w[3] == kernel.width else { throw check.fail("weights \(w) do not match kernel \(kernel)") }
        let o = w[1] * group
        if inputs.count > 2, inputs[2] != [o] { throw check.fail("bias \(inputs[2]) does not match \(o) output channels") }
        let sizes = [
            (x[2], kernel.height, strides.height, dilations.height, pads.vertical, outputPadding.height),
            (x[3], kernel.width, strides.width, dilations.width, pads.horizontal, outputPadding.width),
        ]
        let out = try sizes.map { n, k, s, d, p, extra -> Int in
            guard n >= 1, k >= 1, s >= 1, d >= 1, p >= 0, extra >= 0, extra < max(s, d),
                let full = Checked.add((n - 1) * s, (k - 1) * d + 1 + extra), n <= 1 << 24, s <= 1 << 16, d <= 1 << 16
            else { throw check.fail("invalid size, kernel, stride, dilation, padding or output padding") }
            guard full - p >= 1 else { throw check.fail("crops \(p) from an output of \(full)") }
            return full - p
        }
        return [[x[0], o, out[0], out[1]]]
    }

    /// One multiply-add per input cell and weight of its group: `H·W·C · (O/group)·kh·kw`.
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int {
        guard inputs.count > 1, inputs[0].count == 4, inputs[1].count == 4 else { return 0 }
        return Checked.product(Array(inputs[0].dropFirst()) + [inputs[1][1], kernel.height, kernel.width]) ?? 0
    }
}
