import TensorCore

/// 1-D sequence layers (N×L×C, channels-last) run as 2-D images of height 1: the sequence
/// becomes N×C×1×L, so Conv1D and the 1-D poolings are the IR's 2-D convolution and pooling
/// (and everything downstream — export, int8, pruning — treats them as such).
extension KerasGraphBuilder {
    /// Conv1D: kernel k×(C/groups)×F → F×(C/groups)×1×k; padding 'valid', 'same' (TensorFlow's
    /// rule) or 'causal' ((k − 1)·d zeros in front); strides, dilation, groups; then its activation.
    mutating func conv1D(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let image = try image1D(x, config)
        let (channels, length) = (shape(image)[1], shape(image)[3])
        let filters = try config.int("filters", default: 0)
        let groups = try config.int("groups", default: 1)
        let k = try config.ints("kernel_size", count: 1)[0]
        let stride = try config.ints("strides", count: 1, default: [1])[0]
        let dilation = try config.ints("dilation_rate", count: 1, default: [1])[0]
        guard filters > 0, groups >= 1, channels % groups == 0, filters % groups == 0, k >= 1, stride >= 1, dilation >= 1 else {
            throw config.fail("has filters \(filters), groups \(groups), kernel \(k), stride \(stride), dilation \(dilation) for \(channels) input channels")
        }
        let (before, after) = try padding1D(config, length: length, kernel: (k - 1) * dilation + 1, stride: stride, causal: true)
        let useBias = try config.bool("use_bias", default: true)
        var expected = [("kernel", [k, channels / groups, filters])]
        if useBias { expected.append(("bias", [filters])) }
        let w = try loadWeights(config.layer, expected)
        guard let kernel = w["kernel"] else { throw config.fail("has no kernel") }
        let oihw = try kernel.transposed([2, 1, 0]).reshaped([filters, channels / groups, 1, k])
        var inputs = [image.name, try constant(oihw, name: name + "/kernel")]
        if useBias, let b = w["bias"] { inputs.append(try constant(b, name: name + "/bias")) }
        let attributes = Conv2DAttributes(
            kernel: Size2D(1, k), strides: Size2D(1, stride), dilations: Size2D(1, dilation),
            pads: Padding2D(top: 0, left: before, bottom: 0, right: after), group: groups)
        var y = try emit(.conv2D(attributes), inputs, name: name + "/conv", layer: config.layer, channelsFirst: true)
        // The activation runs on the image, so that a following 1-D layer reads it directly.
        if let activation = try fusedActivationName(config) {
            y = try self.activation(y, named: activation, config, name: name + "/activation")
        }
        return try sequence(y, config, name: name)
    }

    /// MaxPooling1D / AveragePooling1D (strides default to the pool size; padded cells never count).
    mutating func pooling1D(_ x: KerasValue, _ config: KerasConfig, name: String, max: Bool) throws -> KerasValue {
        let image = try image1D(x, config)
        let pool = try config.ints("pool_size", count: 1, default: [2])[0]
        let stride = try config.ints("strides", count: 1, default: [pool])[0]
        guard pool >= 1, stride >= 1 else { throw config.fail("has pool size \(pool) and stride \(stride)") }
        let (before, after) = try padding1D(config, length: shape(image)[3], kernel: pool, stride: stride, causal: false)
        let window = Pool2DAttributes(kernel: Size2D(1, pool), strides: Size2D(1, stride), pads: Padding2D(top: 0, left: before, bottom: 0, right: after))
        let y = try emit(max ? .maxPool2D(window) : .averagePool2D(window), [image.name], name: name + "/pool", layer: config.layer, channelsFirst: true)
        return try sequence(y, config, name: name)
    }

    /// GlobalAverage/MaxPooling1D: N×C (N×1×C with keepdims).
    mutating func globalPooling1D(_ x: KerasValue, _ config: KerasConfig, name: String, max: Bool) throws -> KerasValue {
        let image = try image1D(x, config)
        let pooled = try emit(max ? .globalMaxPool : .globalAveragePool, [image.name], name: name + "/pool", layer: config.layer, channelsFirst: true)
        let channels = shape(image)[1]
        let keep = try config.bool("keepdims", default: false)
        return try emit(.reshape(keep ? [1, channels] : [channels]), [pooled.name], name: name, layer: config.layer, channelsFirst: false)
    }

    /// ZeroPadding1D `(before, after)`, Cropping1D `(before, after)`, UpSampling1D `size`: a
    /// pad, slice or nearest upsampling of the image's last axis.
    mutating func resize1D(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let image = try image1D(x, config)
        let s = shape(image)
        let op: Op
        switch config.className {
        case "UpSampling1D":
            let size = try config.int("size", default: 2)
            guard size >= 1 else { throw config.fail("has size \(size)") }
            op = .upsampleNearest([1, 1, 1, size])
        default:
            let key = config.className == "ZeroPadding1D" ? "padding" : "cropping"
            let pair = try config.json[key]?.int.map { [$0, $0] } ?? config.ints(key, count: 2, default: [1, 1])
            guard pair.allSatisfy({ $0 >= 0 }) else { throw config.fail("has negative \(key) \(pair)") }
            if key == "padding" {
                op = .pad([0, 0, 0, pair[0], 0, 0, 0, pair[1]])
            } else {
                guard pair[0] + pair[1] < s[3] else { throw config.fail("crops \(pair) from \(s[3]) steps") }
                op = .slice(begin: [0, 0, 0, pair[0]], end: [s[0], s[1], 1, s[3] - pair[1]])
            }
        }
        let y = try emit(op, [image.name], name: name + "/image", layer: config.layer, channelsFirst: true)
        return try sequence(y, config, name: name)
    }

    /// Embedding: row `id` of the `input_dim`×`output_dim` table per id (N×L → N×L×D); with
    /// `mask_zero`, the ids' mask (id ≠ 0) travels with the output.
    mutating func embeddingLayer(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsLast(x, layer: config.layer)
        let vocabulary = try config.int("input_dim", default: 0), width = try config.int("output_dim", default: 0)
        guard vocabulary > 0, width > 0 else { throw config.fail("has input_dim \(vocabulary) and output_dim \(width)") }
        let w = try loadWeights(config.layer, [("embeddings", [vocabulary, width])])
        guard let table = w["embeddings"] else { throw config.fail("has no embeddings") }
        let output = try emit(.embedding(Embedding()), [input.name, try constant(table, name: name + "/embeddings")], name: name, layer: config.layer, channelsFirst: false)
        if try config.bool("mask_zero", default: false) {
            guard shape(input).count == 2 else { throw config.fail("masks ids of \(kerasShape(input)); ModelPress masks ids N×steps") }
            masks[output.name] = try stepMask(of: input.name, value: 0, config, name: name + "/mask")
        }
        return output
    }

    /// `(before, after)` zero padding of a 1-D window sweep: 'valid' none, 'same' TensorFlow's
    /// (the odd cell after), 'causal' (Conv1D only) all in front.
    private func padding1D(_ config: KerasConfig, length: Int, kernel span: Int, stride: Int, causal allowed: Bool) throws -> (Int, Int) {
        switch try config.string("padding", default: "valid") {
        case "valid":
            guard length >= span else { throw config.fail("has a window of \(span) steps over a sequence of \(length)") }
            return (0, 0)
        case "same":
            return tensorFlowSamePadding(size: length, span: span, stride: stride)
        case "causal" where allowed:
            return (span - 1, 0)
        case let other:
            throw config.fail("uses padding '\(other)'", hint: "use 'valid', 'same'\(allowed ? " or 'causal'" : "")")
        }
    }

    /// The N×L×C sequence `x` as an N×C×1×L image (once per value; the image a 1-D layer wrote
    /// is reused directly by the next one).
    mutating func image1D(_ x: KerasValue, _ config: KerasConfig) throws -> KerasValue {
        if let cached = layoutCache[x.name + "|nc1l"] { return KerasValue(name: cached, channelsFirst: true) }
        let s = shape(x)
        guard !x.channelsFirst, s.count == 3 else {
            throw config.fail("expects a sequence N×steps×channels, got \(kerasShape(x))", hint: "1-D layers read 3-D inputs")
        }
        let ncl = try emit(.transpose([0, 2, 1]), [x.name], name: x.name + "/ncl", layer: config.layer, channelsFirst: false)
        let image = try emit(.reshape([s[2], 1, s[1]]), [ncl.name], name: x.name + "/nc1l", layer: config.layer, channelsFirst: true)
        layoutCache[x.name + "|nc1l"] = image.name
        return image
    }

    /// The N×C×1×L image `y` as the N×L×C sequence Keras sees (remembered, so that a following
    /// 1-D layer reads `y` itself; conversions nobody reads are dropped when the graph is built).
    mutating func sequence(_ y: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let s = shape(y)
        let ncl = try emit(.reshape([s[1], s[3]]), [y.name], name: name + "/ncl", layer: config.layer, channelsFirst: false)
        let out = try emit(.transpose([0, 2, 1]), [ncl.name], name: name, layer: config.layer, channelsFirst: false)
        layoutCache[out.name + "|nc1l"] = y.name
        return out
    }

    /// An elementwise layer on `x`: on the image a 1-D layer wrote when `x` is that layer's
    /// sequence (so that the next 1-D layer reads the result directly), else on `x` itself.
    mutating func elementwiseLayer(
        _ x: KerasValue, _ config: KerasConfig, name: String, _ body: (inout Self, KerasValue, String) throws -> KerasValue
    ) throws -> KerasValue {
        guard !x.channelsFirst, shape(x).count == 3, let image = layoutCache[x.name + "|nc1l"] else { return try body(&self, x, name) }
        let y = try body(&self, KerasValue(name: image, channelsFirst: true), name + "/image")
        return try sequence(y, config, name: name)
    }
}
