import TensorCore

extension KerasGraphBuilder {
    /// Conv2D: kernel kh×kw×(C/groups)×F (HWIO) → OIHW, 'same'/'valid' padding, strides,
    /// dilation, groups; then its activation.
    mutating func conv2D(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsFirst(x, layer: config.layer)
        let s = shape(input)
        let filters = try config.int("filters", default: 0)
        let groups = try config.int("groups", default: 1)
        let kernel = try config.ints("kernel_size", count: 2)
        guard filters > 0, groups >= 1, s[1] % groups == 0, filters % groups == 0 else {
            throw config.fail("has filters \(filters) / groups \(groups) that do not fit \(s[1]) input channels")
        }
        var attributes = try windowAttributes(config, kernel: kernel, input: s)
        attributes.group = groups
        let useBias = try config.bool("use_bias", default: true)
        var expected = [("kernel", kernel + [s[1] / groups, filters])]
        if useBias { expected.append(("bias", [filters])) }
        let w = try loadWeights(config.layer, expected)
        var inputs = [input.name, try constant(try hwioToOIHW(w["kernel"]), name: name + "/kernel")]
        if useBias, let b = w["bias"] { inputs.append(try constant(b, name: name + "/bias")) }
        let y = try emit(.conv2D(attributes), inputs, name: name, layer: config.layer, channelsFirst: true)
        return try fusedActivation(y, config, name: name)
    }

    /// Conv2DTranspose: kernel kh×kw×F×C → C×F×kh×kw; the output length is Keras's
    /// (`deconv_output_length`) and TensorFlow's padding rule places it (SAME: ⌊total/2⌋ cropped first).
    mutating func conv2DTranspose(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsFirst(x, layer: config.layer)
        let s = shape(input)
        let filters = try config.int("filters", default: 0)
        let kernel = try config.ints("kernel_size", count: 2)
        let strides = try config.ints("strides", count: 2, default: [1, 1])
        let dilations = try config.ints("dilation_rate", count: 2, default: [1, 1])
        let padding = try config.string("padding", default: "valid")
        let outputPadding = config.has("output_padding") ? try config.ints("output_padding", count: 2) : nil
        guard filters > 0, try config.int("groups", default: 1) == 1, (strides + dilations + kernel).allSatisfy({ $0 >= 1 }), ["same", "valid"].contains(padding) else {
            throw config.fail("has filters \(filters), kernel \(kernel), strides \(strides), dilation \(dilations), padding '\(padding)'; ModelPress reads positive sizes, one group and 'same' / 'valid'")
        }
        var pads = [0, 0, 0, 0], extra = [0, 0]
        for a in 0..<2 {
            let span = (kernel[a] - 1) * dilations[a] + 1, n = s[a + 2]
            let length: Int
            if let op = outputPadding?[a] {
                length = (n - 1) * strides[a] + span - 2 * (padding == "same" ? span / 2 : 0) + op
            } else {
                length = padding == "same" ? n * strides[a] : n * strides[a] + max(span - strides[a], 0)
            }
            let full = (n - 1) * strides[a] + span
            let before = padding == "same" ? max(full - length, 0) / 2 : 0
            pads[a] = before
            if full - before >= length { pads[a + 2] = full - before - length } else { extra[a] = length - (full - before) }
        }
        let useBias = try config.bool("use_bias", default: true)
        var expected = [("kernel", kernel + [filters, s[1]])]
        if useBias { expected.append(("bias", [filters])) }
        let w = try loadWeights(config.layer, expected)
        guard let k = w["kernel"], let size = Size2D(kernel), let st = Size2D(strides), let d = Size2D(dilations), let p = Padding2D(pads), let e = Size2D(extra) else {
            throw config.fail("has no kernel")
        }
        var inputs = [input.name, try constant(try k.transposed([3, 2, 0, 1]), name: name + "/kernel")]
        if useBias, let b = w["bias"] { inputs.append(try constant(b, name: name + "/bias")) }
        let op = ConvTranspose2D(kernel: size, strides: st, dilations: d, pads: p, outputPadding: e)
        let y = try emit(.convTranspose2D(op), inputs, name: name, layer: config.layer, channelsFirst: true)
        return try fusedActivation(y, config, name: name)
    }

    /// DepthwiseConv2D: kernel kh×kw×C×m → (C·m)×1×kh×kw, group C.
    mutating func depthwiseConv2D(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsFirst(x, layer: config.layer)
        let (kernel, multiplier) = try depthwiseShape(config)
        let channels = shape(input)[1]
        var expected = [("depthwise_kernel", kernel + [channels, multiplier])]
        if try config.bool("use_bias", default: true) { expected.append(("bias", [channels * multiplier])) }
        let w = try loadWeights(config.layer, expected)
        guard let k = w["depthwise_kernel"] else { throw config.fail("has no depthwise_kernel") }
        let y = try depthwise(input, config, name: name, kernel: k, bias: w["bias"])
        return try fusedActivation(y, config, name: name)
    }

    /// SeparableConv2D: depthwise (kh×kw×C×m) then pointwise 1×1 (1×1×(C·m)×F) with the bias.
    mutating func separableConv2D(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsFirst(x, layer: config.layer)
        let filters = try config.int("filters", default: 0)
        guard filters > 0 else { throw config.fail("has no positive 'filters'") }
        let useBias = try config.bool("use_bias", default: true)
        let (kernel, multiplier) = try depthwiseShape(config)
        let channels = shape(input)[1] * multiplier
        // All of the layer's weights in one read: the Keras 3 layout stores them together, in this order.
        var expected = [("depthwise_kernel", kernel + [shape(input)[1], multiplier]), ("pointwise_kernel", [1, 1, channels, filters])]
        if useBias { expected.append(("bias", [filters])) }
        let w = try loadWeights(config.layer, expected)
        guard let k = w["depthwise_kernel"] else { throw config.fail("has no depthwise_kernel") }
        let dw = try depthwise(input, config, name: name + "/depthwise", kernel: k, bias: nil)
        var inputs = [dw.name, try constant(try hwioToOIHW(w["pointwise_kernel"]), name: name + "/pointwise_kernel")]
        if useBias, let b = w["bias"] { inputs.append(try constant(b, name: name + "/bias")) }
        let y = try emit(.conv2D(Conv2DAttributes(kernel: .one)), inputs, name: name, layer: config.layer, channelsFirst: true)
        return try fusedActivation(y, config, name: name)
    }

    /// Kernel size and depth multiplier of a depthwise layer's config.
    private func depthwiseShape(_ config: KerasConfig) throws -> (kernel: [Int], multiplier: Int) {
        let multiplier = try config.int("depth_multiplier", default: 1)
        guard multiplier >= 1 else { throw config.fail("has depth_multiplier \(multiplier)") }
        return (try config.ints("kernel_size", count: 2), multiplier)
    }

    /// A depthwise convolution of `input` (NCHW) by the loaded Keras kernel kh×kw×C×m.
    private mutating func depthwise(_ input: KerasValue, _ config: KerasConfig, name: String, kernel k: Tensor, bias: Tensor?) throws -> KerasValue {
        let s = shape(input)
        let (kernel, multiplier) = try depthwiseShape(config)
        var attributes = try windowAttributes(config, kernel: kernel, input: s)
        attributes.group = s[1]
        // kh×kw×C×m → (C·m)×1×kh×kw: output channel c·m + j uses k[:, :, c, j].
        let oihw = try k.reshaped(kernel + [s[1] * multiplier, 1]).transposed([2, 3, 0, 1])
        var inputs = [input.name, try constant(oihw, name: name + "/kernel")]
        if let bias { inputs.append(try constant(bias, name: name + "/bias")) }
        return try emit(.conv2D(attributes), inputs, name: name, layer: config.layer, channelsFirst: true)
    }

    /// Strides, dilation and padding of a convolution-like layer on an NCHW input `s`.
    /// 'same' pads as TensorFlow does: total `max((ceil(in/s) − 1)·s + (k − 1)·d + 1 − in, 0)`,
    /// the odd cell at the bottom/right.
    func windowAttributes(_ config: KerasConfig, kernel: [Int], input s: [Int], defaultStrides: [Int] = [1, 1]) throws -> Conv2DAttributes {
        let strides = try config.ints("strides", count: 2, default: defaultStrides)
        let dilations = try config.ints("dilation_rate", count: 2, default: [1, 1])
        guard strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), kernel.allSatisfy({ $0 >= 1 }) else {
            throw config.fail("has non-positive kernel/strides/dilation")
        }
        let padding = try config.string("padding", default: "valid")
        var pads = [0, 0, 0, 0]
        switch padding {
        case "valid": break
        case "same":
            for axis in 0..<2 {
                (pads[axis], pads[axis + 2]) = tensorFlowSamePadding(
                    size: s[axis + 2], span: (kernel[axis] - 1) * dilations[axis] + 1, stride: strides[axis])
            }
        default:
            throw config.fail("uses padding '\(padding)'", hint: "use 'same' or 'valid' padding")
        }
        guard let k = Size2D(kernel), let st = Size2D(strides), let d = Size2D(dilations), let p = Padding2D(pads) else {
            throw config.fail("has window attributes for other than 2 spatial axes")
        }
        return Conv2DAttributes(kernel: k, strides: st, dilations: d, pads: p)
    }

    /// TensorFlow's 'same' padding of a window of `span` cells (dilation included) swept with
    /// `stride` over `size` cells: ⌈size / stride⌉ outputs, the odd padding cell after.
    func tensorFlowSamePadding(size: Int, span: Int, stride: Int) -> (before: Int, after: Int) {
        let out = (size + stride - 1) / stride
        let total = max((out - 1) * stride + span - size, 0)
        return (total / 2, total - total / 2)
    }

    /// HWIO (Keras) → OIHW (IR).
    private func hwioToOIHW(_ kernel: Tensor?) throws -> Tensor {
        guard let kernel else { throw ModelPressError.internalError("missing kernel") }
        return try kernel.transposed([3, 2, 0, 1])
    }

    /// BatchNormalization on the channel axis (last in Keras): gamma/beta optional
    /// (`scale`/`center` false), moving mean and variance, epsilon.
    mutating func batchNormalization(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let rank = kerasShape(x).count
        let axisValue = config.json["axis"]?.int ?? config.json["axis"]?.array?.first?.int ?? -1
        guard axisValue == -1 || axisValue == rank - 1 else {
            throw config.fail("normalizes axis \(axisValue); ModelPress supports the channel (last) axis")
        }
        // A sequence (N×L×C) is normalized as its N×C×1×L image.
        let input = rank == 4 ? try channelsFirst(x, layer: config.layer) : rank == 3 ? try image1D(x, config) : x
        guard rank >= 2, rank <= 4 else { throw config.fail("is applied to a rank-\(rank) tensor; ModelPress supports ranks 2 to 4") }
        let channels = shape(input)[1]
        let scale = try config.bool("scale", default: true), center = try config.bool("center", default: true)
        var expected: [(String, [Int])] = []
        if scale { expected.append(("gamma", [channels])) }
        if center { expected.append(("beta", [channels])) }
        expected += [("moving_mean", [channels]), ("moving_variance", [channels])]
        let w = try loadWeights(config.layer, expected)
        let ones = try Tensor(shape: [channels], repeating: 1), zeros = try Tensor(shape: [channels])
        let inputs = [
            input.name,
            try constant(w["gamma"] ?? ones, name: name + "/gamma"),
            try constant(w["beta"] ?? zeros, name: name + "/beta"),
            try constant(w["moving_mean"] ?? zeros, name: name + "/moving_mean"),
            try constant(w["moving_variance"] ?? ones, name: name + "/moving_variance"),
        ]
        let epsilon = try config.float("epsilon", default: 1e-3)
        let y = try emit(.batchNormalization(epsilon: epsilon), inputs, name: rank == 3 ? name + "/image" : name, layer: config.layer, channelsFirst: rank >= 3)
        return rank == 3 ? try sequence(y, config, name: name) : y
    }
}
