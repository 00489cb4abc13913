import TensorCore

extension KerasGraphBuilder {
    /// MaxPooling2D / AveragePooling2D (strides default to the pool size).
    mutating func pooling(_ x: KerasValue, _ config: KerasConfig, name: String, max: Bool) throws -> KerasValue {
        let input = try channelsFirst(x, layer: config.layer)
        let pool = try config.ints("pool_size", count: 2, default: [2, 2])
        let window = try windowAttributes(config, kernel: pool, input: shape(input), defaultStrides: pool)
        let attributes = Pool2DAttributes(kernel: Size2D(pool[0], pool[1]), strides: window.strides, pads: window.pads)
        return try emit(max ? .maxPool2D(attributes) : .averagePool2D(attributes), [input.name], name: name, layer: config.layer, channelsFirst: true)
    }

    /// GlobalAverage/MaxPooling2D: N×C (or N×1×1×C with keepdims).
    mutating func globalPooling(_ x: KerasValue, _ config: KerasConfig, name: String, max: Bool) throws -> KerasValue {
        let input = try channelsFirst(x, layer: config.layer)
        let keep = try config.bool("keepdims", default: false)
        let pooled = try emit(
            max ? .globalMaxPool : .globalAveragePool, [input.name], name: keep ? name : name + "/pool",
            layer: config.layer, channelsFirst: true)
        if keep { return pooled }
        return try emit(.flatten, [pooled.name], name: name, layer: config.layer, channelsFirst: false)
    }

    /// ZeroPadding2D: `((top, bottom), (left, right))`.
    mutating func zeroPadding(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsFirst(x, layer: config.layer)
        let p = try config.pairs("padding")
        guard p.joined().allSatisfy({ $0 >= 0 }) else { throw config.fail("has negative padding") }
        return try emit(.pad([0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]]), [input.name], name: name, layer: config.layer, channelsFirst: true)
    }

    /// Cropping2D: `((top, bottom), (left, right))` removed.
    mutating func cropping(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsFirst(x, layer: config.layer)
        let s = shape(input), c = try config.pairs("cropping")
        return try emit(
            .slice(begin: [0, 0, c[0][0], c[1][0]], end: [s[0], s[1], s[2] - c[0][1], s[3] - c[1][1]]),
            [input.name], name: name, layer: config.layer, channelsFirst: true)
    }

    /// UpSampling2D: nearest, or bilinear with TensorFlow's half-pixel centres.
    mutating func upSampling(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsFirst(x, layer: config.layer)
        let size = try config.ints("size", count: 2, default: [2, 2])
        let interpolation = try config.string("interpolation", default: "nearest")
        switch interpolation {
        case "nearest":
            return try emit(.upsampleNearest([1, 1] + size), [input.name], name: name, layer: config.layer, channelsFirst: true)
        case "bilinear":
            let s = shape(input)
            let op = ResizeBilinear(size: Size2D(s[2] * size[0], s[3] * size[1]), coordinates: .halfPixel)
            return try emit(.resizeBilinear(op), [input.name], name: name, layer: config.layer, channelsFirst: true)
        default:
            throw config.fail("uses interpolation '\(interpolation)'", hint: "ModelPress reads nearest and bilinear upsampling; re-train with one of them")
        }
    }
}
