import TensorCore

extension KerasGraphBuilder {
    /// Dense: kernel K×M on the last axis (any rank), bias M, then its activation (weights held
    /// by `sublayer` when a wrapper holds the Dense).
    mutating func dense(_ x: KerasValue, _ config: KerasConfig, name: String, within sublayer: KerasSublayer? = nil) throws -> KerasValue {
        let input = try channelsLast(x, layer: config.layer)
        let units = try config.int("units", default: 0)
        let k = shape(input).last ?? 0
        guard units > 0 else { throw config.fail("has no positive 'units'") }
        let useBias = try config.bool("use_bias", default: true)
        var expected = [("kernel", [k, units])]
        if useBias { expected.append(("bias", [units])) }
        let w = try loadWeights(config.layer, expected, within: sublayer)
        guard let kernel = w["kernel"] else { throw ModelPressError.internalError("layer '\(config.layer)': kernel missing after loading") }
        var inputs = [input.name, try constant(kernel, name: name + "/kernel")]
        if useBias, let b = w["bias"] { inputs.append(try constant(b, name: name + "/bias")) }
        let y = try emit(.linear, inputs, name: name, layer: config.layer, channelsFirst: false)
        return try fusedActivation(y, config, name: name)
    }

    /// The `activation` a Dense/Conv layer applies after itself. The layer's output keeps the
    /// layer's name (what users and ONNX consumers look for); the value before the activation
    /// is renamed `<layer>/conv` or `<layer>/linear`.
    mutating func fusedActivation(_ y: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        guard let activationName = try fusedActivationName(config) else { return y }
        let preActivation = try renameLastNode(y, suffix: config.className == "Dense" ? "linear" : "conv")
        return try activation(preActivation, named: activationName, config, name: y.name)
    }

    /// The name of the `activation` a layer applies after itself; nil for none or `linear`.
    /// A custom activation (an object, not a name) is refused: ModelPress never imports code.
    func fusedActivationName(_ config: KerasConfig) throws -> String? {
        guard let value = config.json["activation"], !value.isNull else { return nil }
        guard let activationName = value.string else {
            throw ModelPressError.unsupportedLayer(
                file: file, layer: config.layer, className: config.className,
                reason: "uses a custom activation function; ModelPress never imports code.\nHINT: use a built-in activation name.")
        }
        return activationName == "linear" ? nil : activationName
    }

    /// Renames the value the last node wrote (which must be `value`) to `<name>/<suffix>`.
    private mutating func renameLastNode(_ value: KerasValue, suffix: String) throws -> KerasValue {
        guard let last = graph.nodes.indices.last, graph.nodes[last].output == value.name, let shape = graph.shapes[value.name] else {
            throw ModelPressError.internalError("renaming '\(value.name)', which is not the last node's output")
        }
        let renamed = graph.uniqueName(value.name + "/" + suffix)
        graph.nodes[last].name = renamed
        graph.nodes[last].output = renamed
        graph.shapes[value.name] = nil
        graph.shapes[renamed] = shape
        return KerasValue(name: renamed, channelsFirst: value.channelsFirst)
    }

    /// Flatten: row-major over the channels-last shape, as Keras does.
    mutating func flatten(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsLast(x, layer: config.layer)
        if shape(input).count == 2 { return input }
        return try emit(.flatten, [input.name], name: name, layer: config.layer, channelsFirst: false)
    }

    /// Reshape to `target_shape` (channels-last, per sample; one -1 allowed).
    mutating func reshape(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        guard let target = config.json["target_shape"]?.array?.compactMap(\.int), !target.isEmpty else {
            throw config.fail("has no integer target_shape")
        }
        return try reshaped(x, to: target, config, name: name)
    }

    /// Permute: `dims` are 1-based axes after the batch axis.
    mutating func permute(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsLast(x, layer: config.layer)
        let dims = config.json["dims"]?.array?.compactMap(\.int) ?? []
        guard dims.sorted() == Array(1..<shape(input).count) else { throw config.fail("has invalid dims \(dims)") }
        return try emit(.transpose([0] + dims), [input.name], name: name, layer: config.layer, channelsFirst: false)
    }

    /// Rescaling: `x · scale + offset` (scalars or per-channel lists).
    mutating func rescaling(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let scale = try channelConstant(config, "scale", default: 1, for: x)
        let offset = try channelConstant(config, "offset", default: 0, for: x)
        var y = try emit(
            .elementwise(.multiply), [x.name, try constant(scale, name: name + "/scale")],
            name: name + "/mul", layer: config.layer, channelsFirst: x.channelsFirst)
        y = try emit(
            .elementwise(.add), [y.name, try constant(offset, name: name + "/offset")],
            name: name, layer: config.layer, channelsFirst: x.channelsFirst)
        return y
    }

    /// ConvNeXt's `LayerScale`: `x · γ`, one learned scale per channel (the last Keras axis).
    mutating func layerScale(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let channels = kerasShape(x).last ?? 0
        guard let gamma = try loadWeights(config.layer, [("gamma", [channels])])["gamma"] else { throw config.fail("has no gamma") }
        return try emit(
            .elementwise(.multiply), [x.name, try constant(try perChannel(gamma.storage, for: x), name: name + "/gamma")],
            name: name, layer: config.layer, channelsFirst: x.channelsFirst)
    }

    /// InceptionResNetV2's `CustomScaleLayer` (a keras.applications class, decoded by name):
    /// `inputs[0] + inputs[1] · scale`.
    mutating func customScale(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard inputs.count == 2 else { throw config.fail("adds \(inputs.count) inputs; it reads two") }
        let scale = KerasValue(name: try constant(Tensor(scalar: try config.float("scale", default: 1)), name: name + "/scale"), channelsFirst: false)
        let scaled = try elementwiseCall(.multiply, [inputs[1], scale], config, name: name + "/scaled")
        return try elementwiseCall(.add, [inputs[0], scaled], config, name: name)
    }

    /// A scalar or per-channel config value as a tensor broadcasting over `x`'s layout.
    private func channelConstant(_ config: KerasConfig, _ key: String, default value: Float, for x: KerasValue) throws -> Tensor {
        if let list = config.json[key]?.array {
            let values = list.compactMap { $0.double.map(Float.init) }
            guard values.count == list.count else { throw config.fail("config '\(key)' is not a list of numbers") }
            return try perChannel(values, for: x)
        }
        return Tensor(scalar: try config.float(key, default: value))
    }

    /// A per-channel vector shaped to broadcast over `x` (C for channels-last, C×1×1 for NCHW).
    func perChannel(_ values: [Float], for x: KerasValue) throws -> Tensor {
        try Tensor(shape: x.channelsFirst ? [values.count, 1, 1] : [values.count], storage: values)
    }

    /// Normalization: `(x − mean) / max(sqrt(variance), 1e-7)` on the last axis (adapted
    /// weights or mean/variance given in the config); `invert` gives the reverse.
    mutating func normalization(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsLast(x, layer: config.layer)
        let axis = config.json["axis"]?.int ?? config.json["axis"]?.array?.first?.int ?? -1
        let rank = shape(input).count
        guard axis == -1 || axis == rank - 1 else {
            throw config.fail("normalizes axis \(axis); ModelPress supports the last axis only")
        }
        let channels = shape(input)[rank - 1]
        var mean: [Float], variance: [Float]
        if config.has("mean") && config.has("variance") {
            mean = try broadcastList(config, "mean", channels)
            variance = try broadcastList(config, "variance", channels)
        } else {
            let w = try weights(of: config.layer, expected: ["mean", "variance", "count"])
            guard let m = w["mean"], let v = w["variance"], m.count == channels, v.count == channels else {
                throw ModelPressError.shapeMismatch(
                    file: file, location: "layer '\(config.layer)'", what: "weight 'mean'",
                    expected: [channels], actual: w["mean"]?.shape ?? [])
            }
            (mean, variance) = (m.storage, v.storage)
        }
        let std = variance.map { max($0.squareRoot(), 1e-7) }
        let meanName = try constant(try Tensor(shape: [channels], storage: mean), name: name + "/mean")
        let stdName = try constant(try Tensor(shape: [channels], storage: std), name: name + "/std")
        if try config.bool("invert", default: false) {
            let y = try emit(.elementwise(.multiply), [input.name, stdName], name: name + "/mul", layer: config.layer, channelsFirst: false)
            return try emit(.elementwise(.add), [y.name, meanName], name: name, layer: config.layer, channelsFirst: false)
        }
        let y = try emit(.elementwise(.subtract), [input.name, meanName], name: name + "/sub", layer: config.layer, channelsFirst: false)
        return try emit(.elementwise(.divide), [y.name, stdName], name: name, layer: config.layer, channelsFirst: false)
    }

    private func broadcastList(_ config: KerasConfig, _ key: String, _ channels: Int) throws -> [Float] {
        if let v = config.json[key]?.double { return [Float](repeating: Float(v), count: channels) }
        let flat = flattenNumbers(config.json[key])
        if flat.count == 1 { return [Float](repeating: flat[0], count: channels) }
        guard flat.count == channels else { throw config.fail("config '\(key)' has \(flat.count) values for \(channels) channels") }
        return flat
    }

    private func flattenNumbers(_ value: JSONValue?) -> [Float] {
        switch value {
        case .number(let d): return [Float(d)]
        case .array(let items): return items.flatMap { flattenNumbers($0) }
        default: return []
        }
    }
}
