import TensorCore

extension KerasGraphBuilder {
    /// A named Keras activation applied to `x` (`linear` adds nothing; names: `KerasActivationName`).
    mutating func activation(_ x: KerasValue, named activationName: String, _ config: KerasConfig, name: String) throws -> KerasValue {
        switch activationName {
        case "linear": return x
        case "softmax":
            let axis = x.channelsFirst ? 1 : shape(x).count - 1
            return try emit(.softmax(axis: axis), [x.name], name: name, layer: config.layer, channelsFirst: x.channelsFirst)
        default:
            guard let f = KerasActivationName.elementwise(activationName, kerasMajor: kerasMajor) else {
                throw ModelPressError.unsupportedLayer(
                    file: file, layer: config.layer, className: config.className,
                    reason: "uses activation '\(activationName)', which ModelPress does not support.\nHINT: use one of \(KerasActivationName.supported).")
            }
            return try emit(.activation(f), [x.name], name: name, layer: config.layer, channelsFirst: x.channelsFirst)
        }
    }

    /// ReLU layer: `max_value`, `negative_slope`, `threshold` (plain forms map to ReLU/Clip/LeakyReLU).
    mutating func reluLayer(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let maxValue = try config.optionalFloat("max_value")
        let slope = try config.float("negative_slope", default: 0)
        let threshold = try config.float("threshold", default: 0)
        let f: Activation
        switch (maxValue, slope, threshold) {
        case (nil, 0, 0): f = .relu
        case (let m?, 0, 0): f = .clip(min: 0, max: m)
        case (nil, let s, 0): f = .leakyRelu(alpha: s)
        default: f = .thresholdedLinear(threshold: threshold, negativeSlope: slope, maxValue: maxValue)
        }
        return try emit(.activation(f), [x.name], name: name, layer: config.layer, channelsFirst: x.channelsFirst)
    }

    /// PReLU: learned slope `alpha` of the per-sample shape with `shared_axes` of size 1.
    mutating func prelu(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        var ks = Array(kerasShape(x).dropFirst())
        for axis in config.json["shared_axes"]?.array?.compactMap(\.int) ?? [] where axis >= 1 && axis <= ks.count {
            ks[axis - 1] = 1
        }
        let w = try loadWeights(config.layer, [("alpha", ks)])
        guard var alpha = w["alpha"] else { throw config.fail("has no alpha") }
        if x.channelsFirst { alpha = try alpha.transposed([2, 0, 1]) }
        return try emit(.prelu, [x.name, try constant(alpha, name: name + "/alpha")], name: name, layer: config.layer, channelsFirst: x.channelsFirst)
    }

    /// Softmax layer along `axis` (Keras axis, default −1).
    mutating func softmaxLayer(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let rank = shape(x).count
        var axis = config.json["axis"]?.int ?? config.json["axis"]?.array?.first?.int ?? -1
        if axis < 0 { axis += rank }
        guard axis >= 1, axis < rank else { throw config.fail("has axis out of range for rank \(rank)") }
        return try emit(.softmax(axis: irAxis(axis, of: x)), [x.name], name: name, layer: config.layer, channelsFirst: x.channelsFirst)
    }

    /// The IR axis of Keras (channels-last) axis `axis` of `x`.
    func irAxis(_ axis: Int, of x: KerasValue) -> Int {
        guard x.channelsFirst else { return axis }
        return [0, 2, 3, 1][axis]
    }
}
