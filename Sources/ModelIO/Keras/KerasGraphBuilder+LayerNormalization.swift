import TensorCore

extension KerasGraphBuilder {
    /// LayerNormalization over trailing axes (Keras order: channels-last), gamma/beta optional
    /// (`scale`/`center` false), epsilon. `axis` may be one axis or a list; the normalized
    /// axes must be the trailing ones (`-1`, or `[1, 2, 3]` of a rank-4 tensor, …).
    mutating func layerNormalization(_ x: KerasValue, _ config: KerasConfig, name: String, within sublayer: KerasSublayer? = nil) throws -> KerasValue {
        let input = try channelsLast(x, layer: config.layer)
        let rank = shape(input).count
        let raw = config.json["axis"]?.array?.compactMap(\.int) ?? config.json["axis"]?.int.map { [$0] } ?? [-1]
        let axes = raw.map { $0 < 0 ? $0 + rank : $0 }.sorted()
        guard let first = axes.first, first >= 1, axes == Array(first..<rank) else {
            throw config.fail("normalizes axes \(raw) of a rank-\(rank) tensor; ModelPress supports the trailing axes (e.g. -1)")
        }
        if try config.bool("rms_scaling", default: false) {
            throw config.fail("uses rms_scaling", hint: "ModelPress supports the standard (mean and variance) layer normalization")
        }
        let trailing = Array(shape(input)[first...])
        let scale = try config.bool("scale", default: true), center = try config.bool("center", default: true)
        var expected: [(String, [Int])] = []
        if scale { expected.append(("gamma", trailing)) }
        if center { expected.append(("beta", trailing)) }
        let w = try loadWeights(config.layer, expected, within: sublayer)
        var inputs = [input.name, try constant(try w["gamma"] ?? Tensor(shape: trailing, repeating: 1), name: name + "/gamma")]
        if let beta = w["beta"] { inputs.append(try constant(beta, name: name + "/beta")) }
        let op = Op.layerNormalization(LayerNormalization(axis: first, epsilon: try config.float("epsilon", default: 1e-3)))
        return try emit(op, inputs, name: name, layer: config.layer, channelsFirst: false)
    }
}
