import ModelIO
import TensorCore

extension StudentArchitecture {
    /// The student graph for data samples of shape `sampleShape` and `classes` outputs,
    /// initialised like Keras from `seed` (Glorot-uniform `U(±sqrt(6/(fan_in + fan_out)))` with
    /// Keras's fans: conv `k_h·k_w·C_in` / `k_h·k_w·filters`, depthwise `k_h·k_w·C_in` /
    /// `k_h·k_w·multiplier`; zero biases; BN γ 1, β 0, mean 0, variance 1). Input `input`
    /// [N]+(`input` or `sampleShape`), output the logits [N, classes]. Throws `invalidModel`
    /// naming the file and layer when a layer does not fit the shape it receives.
    public func build(sampleShape: [Int], classes: Int, seed: UInt64) throws -> TrainableModel {
        var builder = ArchitectureBuilder(file: file, random: TrainingRandom(seed: seed, stream: .initialization))
        let shape = input ?? sampleShape
        guard let features = Checked.product(shape), features > 0, Checked.product(sampleShape) == features else {
            throw builder.fail("input", "declares samples of shape \(shape) (\(Checked.product(shape) ?? 0) values) but the data has \(sampleShape) (\(Checked.product(sampleShape) ?? 0) values)")
        }
        try builder.graph.addInput(ValueInfo(name: "input", shape: [dynamicBatch] + shape))
        builder.form = shape.count == 3 ? .nhwc(shape[0], shape[1], shape[2]) : shape.count == 1 ? .vector(shape[0]) : .other(shape)
        var momentum: Float?
        for (i, layer) in layers.enumerated() {
            let at = "layers[\(i)]"
            switch layer {
            case .convolution(let c): try builder.convolution(c, at: at)
            case .batchNormalization(let epsilon, let m):
                if let momentum, momentum != m {
                    throw ModelPressError.invalidModel(
                        file: file, location: "\(at).batchnorm.momentum", message: "is \(m) but an earlier batchnorm has \(momentum)",
                        hint: "give every batchnorm the same momentum: ModelPress trains with one momentum per model")
                }
                momentum = m
                try builder.batchNormalization(epsilon: epsilon, at: at)
            case .activation(let name): try builder.activation(name, layer: "activation_\(builder.next("activation"))")
            case .pooling(let p): try builder.pooling(p, at: at)
            case .globalPooling(let max): try builder.globalPooling(max: max, at: at)
            case .flatten: try builder.flatten(at: at)
            case .dense(let units, let activation, let useBias): try builder.dense(units: units, activation: activation, useBias: useBias, at: at)
            case .dropout(let rate):
                guard builder.current != "input", builder.dropout[builder.current] == nil else {
                    throw builder.fail(at, "dropout must follow a layer (not the input, nor another dropout)")
                }
                builder.dropout[builder.current] = rate
            case .zeroPadding(let p): try builder.zeroPadding(p, at: at)
            }
        }
        guard case .vector(let outputs) = builder.form, outputs == classes else {
            throw builder.fail(
                "layers[\(layers.count - 1)]", "the last layer gives samples of shape \(builder.form.description); a classifier student must end with {\"dense\": {\"units\": \(classes)}} (the \(classes) classes)")
        }
        builder.graph.outputs = [ValueInfo(name: builder.current, shape: [dynamicBatch, classes])]
        builder.graph.name = "student"
        builder.graph.metadata["source_format"] = "modelpress-spec"
        var model = try TrainableModel(graph: builder.graph, dropout: builder.dropout, source: file)
        if let momentum { model.batchNormMomentum = momentum }
        return model
    }
}

/// Appends spec layers to a graph, tracking the per-sample form of the current value.
struct ArchitectureBuilder {
    /// The per-sample form of the current value.
    enum Form: CustomStringConvertible {
        /// Features.
        case vector(Int)
        /// An image still channels-last (the graph input).
        case nhwc(Int, Int, Int)
        /// An image channels-first inside the graph (H, W, C).
        case nchw(Int, Int, Int)
        /// Any other shape (e.g. a rank-2 input): only flatten applies.
        case other([Int])

        var description: String {
            switch self {
            case .vector(let f): return "[\(f)]"
            case .nhwc(let h, let w, let c), .nchw(let h, let w, let c): return "[\(h), \(w), \(c)]"
            case .other(let s): return "\(s)"
            }
        }
    }

    let file: String
    var random: TrainingRandom
    var graph = Graph(name: "student")
    var form = Form.other([])
    var current = "input"
    var dropout: [String: Float] = [:]
    var counters: [String: Int] = [:]

    init(file: String, random: TrainingRandom) {
        self.file = file
        self.random = random
    }

    func fail(_ location: String, _ message: String) -> ModelPressError {
        .invalidModel(
            file: file, location: location, message: message,
            hint: "fix the student spec: image layers need H×W×C samples (declare \"input\": [H, W, C]); dense needs a flat input (add flatten or global_avgpool first)")
    }

    /// Keras-style layer numbering: `dense_1`, `dense_2`, …
    mutating func next(_ kind: String) -> Int {
        counters[kind, default: 0] += 1
        return counters[kind] ?? 1
    }

    mutating func glorot(_ shape: [Int], fanIn: Int, fanOut: Int) throws -> Tensor {
        let limit = (6 / Float(fanIn + fanOut)).squareRoot()
        guard let count = Checked.product(shape), count <= 1 << 28 else {
            throw fail("weights", "a weight tensor of shape \(shape) is too large (over 2^28 values) for a student")
        }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = random.uniform(-limit, limit) }
        return try Tensor(shape: shape, storage: values)
    }

    mutating func emit(_ name: String, _ op: Op, _ inputs: [String], layer: String? = nil) throws {
        try graph.append(Node(name: name, op: op, inputs: [current] + inputs, output: name, layer: layer ?? name))
        current = name
    }

    /// The image form (H, W, C), transposing the channels-last input to NCHW on first use.
    mutating func image(at location: String, _ what: String) throws -> (Int, Int, Int) {
        switch form {
        case .nchw(let h, let w, let c): return (h, w, c)
        case .nhwc(let h, let w, let c):
            try emit("input/nchw", .transpose([0, 3, 1, 2]), [], layer: "input")
            form = .nchw(h, w, c)
            return (h, w, c)
        default: throw fail(location, "\(what) needs image samples H×W×C, but it receives \(form.description)")
        }
    }

    /// Keras output size and `[begin, end]` padding of one spatial axis.
    func axis(_ size: Int, kernel: Int, stride: Int, padding: StudentArchitecture.Padding, at location: String) throws -> (out: Int, pads: (Int, Int)) {
        switch padding {
        case .same:
            let out = (size + stride - 1) / stride
            let total = max((out - 1) * stride + kernel - size, 0)
            return (out, (total / 2, total - total / 2))
        case .valid:
            guard size >= kernel else { throw fail(location, "a \(kernel)-wide window with padding valid does not fit an axis of size \(size)") }
            return ((size - kernel) / stride + 1, (0, 0))
        }
    }

    mutating func activation(_ name: String, layer: String) throws {
        switch name {
        case "linear": return
        case "softmax": try emit("\(layer)/softmax", .softmax(axis: 1), [], layer: layer)
        default:
            guard let f = KerasActivationName.elementwise(name) else { throw fail(layer, "unknown activation '\(name)'") }
            try emit("\(layer)/\(name)", .activation(f), [], layer: layer)
        }
    }

    mutating func convolution(_ c: StudentArchitecture.Convolution, at location: String) throws {
        let (h, w, channels) = try image(at: location, c.kind.rawValue)
        let (oh, ph) = try axis(h, kernel: c.kernel[0], stride: c.strides[0], padding: c.padding, at: location)
        let (ow, pw) = try axis(w, kernel: c.kernel[1], stride: c.strides[1], padding: c.padding, at: location)
        let pads = Padding2D(top: ph.0, left: pw.0, bottom: ph.1, right: pw.1)
        let (kh, kw) = (c.kernel[0], c.kernel[1])
        let name: String
        switch c.kind {
        case .conv: name = "conv2d_\(next("conv2d"))"
        case .depthwise: name = "depthwise_conv2d_\(next("depthwise_conv2d"))"
        case .separable: name = "separable_conv2d_\(next("separable_conv2d"))"
        }
        var outChannels = c.filters
        if c.kind != .conv {
            guard let depthwiseOut = Checked.product([channels, c.depthMultiplier]) else { throw fail(location, "too many channels") }
            let depthwise = c.kind == .separable ? "\(name)/depthwise" : name
            try graph.addInitializer(depthwise + "/kernel", try glorot([depthwiseOut, 1, kh, kw], fanIn: kh * kw * channels, fanOut: kh * kw * c.depthMultiplier))
            var inputs = [depthwise + "/kernel"]
            if c.kind == .depthwise && c.useBias {
                try graph.addInitializer(depthwise + "/bias", try Tensor(shape: [depthwiseOut]))
                inputs.append(depthwise + "/bias")
            }
            try emit(depthwise, .conv2D(Conv2DAttributes(kernel: Size2D(kh, kw), strides: Size2D(c.strides[0], c.strides[1]), pads: pads, group: channels)), inputs, layer: name)
            if c.kind == .depthwise { outChannels = depthwiseOut }
            if c.kind == .separable {
                try graph.addInitializer(name + "/pointwise_kernel", try glorot([c.filters, depthwiseOut, 1, 1], fanIn: depthwiseOut, fanOut: c.filters))
                var pointwise = [name + "/pointwise_kernel"]
                if c.useBias {
                    try graph.addInitializer(name + "/bias", try Tensor(shape: [c.filters]))
                    pointwise.append(name + "/bias")
                }
                try emit(name, .conv2D(Conv2DAttributes(kernel: .one)), pointwise)
            }
        } else {
            try graph.addInitializer(name + "/kernel", try glorot([c.filters, channels, kh, kw], fanIn: kh * kw * channels, fanOut: kh * kw * c.filters))
            var inputs = [name + "/kernel"]
            if c.useBias {
                try graph.addInitializer(name + "/bias", try Tensor(shape: [c.filters]))
                inputs.append(name + "/bias")
            }
            try emit(name, .conv2D(Conv2DAttributes(kernel: Size2D(kh, kw), strides: Size2D(c.strides[0], c.strides[1]), pads: pads)), inputs)
        }
        form = .nchw(oh, ow, outChannels)
        try activation(c.activation, layer: name)
    }

    mutating func batchNormalization(epsilon: Float, at location: String) throws {
        let channels: Int
        switch form {
        case .vector(let f): channels = f
        case .nhwc, .nchw: channels = try image(at: location, "batchnorm").2
        case .other: throw fail(location, "batchnorm needs image samples H×W×C or a vector, but it receives \(form.description)")
        }
        let name = "batch_normalization_\(next("batch_normalization"))"
        for (suffix, value) in [("gamma", Float(1)), ("beta", 0), ("moving_mean", 0), ("moving_variance", 1)] {
            try graph.addInitializer("\(name)/\(suffix)", try Tensor(shape: [channels], repeating: value))
        }
        try emit(name, .batchNormalization(epsilon: epsilon), ["gamma", "beta", "moving_mean", "moving_variance"].map { "\(name)/\($0)" })
    }

    mutating func pooling(_ p: StudentArchitecture.Pooling, at location: String) throws {
        let (h, w, c) = try image(at: location, p.max ? "maxpool" : "avgpool")
        let (oh, ph) = try axis(h, kernel: p.pool[0], stride: p.strides[0], padding: p.padding, at: location)
        let (ow, pw) = try axis(w, kernel: p.pool[1], stride: p.strides[1], padding: p.padding, at: location)
        let attributes = Pool2DAttributes(kernel: Size2D(p.pool[0], p.pool[1]), strides: Size2D(p.strides[0], p.strides[1]), pads: Padding2D(top: ph.0, left: pw.0, bottom: ph.1, right: pw.1))
        let name = p.max ? "max_pooling2d_\(next("max_pooling2d"))" : "average_pooling2d_\(next("average_pooling2d"))"
        try emit(name, p.max ? .maxPool2D(attributes) : .averagePool2D(attributes), [])
        form = .nchw(oh, ow, c)
    }

    mutating func globalPooling(max: Bool, at location: String) throws {
        let (_, _, c) = try image(at: location, max ? "global_maxpool" : "global_avgpool")
        let name = max ? "global_max_pooling2d_\(next("global_max_pooling2d"))" : "global_average_pooling2d_\(next("global_average_pooling2d"))"
        try emit(name + "/pool", max ? .globalMaxPool : .globalAveragePool, [], layer: name)
        try emit(name, .flatten, [])
        form = .vector(c)
    }

    mutating func flatten(at location: String) throws {
        let features: Int?
        switch form {
        case .vector: return
        case .nhwc(let h, let w, let c), .nchw(let h, let w, let c): features = Checked.product([h, w, c])
        case .other(let s): features = Checked.product(s)
        }
        guard let features else { throw fail(location, "flatten of \(form.description) overflows") }
        try emit("flatten_\(next("flatten"))", .flatten, [])
        form = .vector(features)
    }

    mutating func dense(units: Int, activation name: String, useBias: Bool, at location: String) throws {
        guard case .vector(let width) = form else {
            throw fail(location, "dense needs flat samples, but it receives \(form.description); add {\"flatten\": {}} or {\"global_avgpool\": {}} before it")
        }
        let layer = "dense_\(next("dense"))"
        try graph.addInitializer(layer + "/kernel", try glorot([width, units], fanIn: width, fanOut: units))
        var inputs = [layer + "/kernel"]
        if useBias {
            try graph.addInitializer(layer + "/bias", try Tensor(shape: [units]))
            inputs.append(layer + "/bias")
        }
        try emit(layer, .linear, inputs)
        form = .vector(units)
        try activation(name, layer: layer)
    }

    mutating func zeroPadding(_ p: [Int], at location: String) throws {
        let (h, w, c) = try image(at: location, "zero_padding")
        let name = "zero_padding2d_\(next("zero_padding2d"))"
        try emit(name, .pad([0, 0, p[0], p[2], 0, 0, p[1], p[3]]), [])
        form = .nchw(h + p[0] + p[1], w + p[2] + p[3], c)
    }
}
