import TensorCore

extension KerasGraphBuilder {
    /// Add / Subtract / Multiply / Average / Maximum / Minimum: image inputs meet in NCHW,
    /// everything else in Keras layout.
    mutating func merge(_ inputs: [KerasValue], _ className: String, _ config: KerasConfig, name: String) throws -> KerasValue {
        guard inputs.count >= 2 else { throw config.fail("merges \(inputs.count) input(s); needs at least 2") }
        let kind: ElementwiseOp
        switch className {
        case "Add": kind = .add
        case "Subtract":
            guard inputs.count == 2 else { throw config.fail("subtracts exactly two inputs, got \(inputs.count)") }
            kind = .subtract
        case "Multiply": kind = .multiply
        case "Average": kind = .mean
        case "Maximum": kind = .maximum
        default: kind = .minimum
        }
        let aligned = try alignLayouts(inputs, config)
        let layout = aligned.first { !shape($0).isEmpty } ?? aligned[0]
        let output = try emit(.elementwise(kind), aligned.map(\.name), name: name, layer: config.layer, channelsFirst: layout.channelsFirst)
        try mergeMasks(inputs, into: output, and: false, config)
        return output
    }

    /// tf-keras `TFOpLambda`: a TensorFlow function recorded by name (not code) and called on
    /// tensors and numbers (`x + 3.0` is `__operators__.add` with `y: 3.0`). The arithmetic and
    /// activations models use are decoded; any other function is refused by name.
    mutating func tfOpLambda(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        let function = try config.string("function", default: "")
        let binary: [String: ElementwiseOp] = [
            "__operators__.add": .add, "math.add": .add, "math.subtract": .subtract, "__operators__.sub": .subtract,
            "math.multiply": .multiply, "__operators__.mul": .multiply, "math.truediv": .divide, "math.divide": .divide,
            "math.maximum": .maximum, "math.minimum": .minimum,
        ]
        let unary: [String: Activation] = [
            "nn.relu": .relu, "nn.relu6": .clip(min: 0, max: 6), "math.sigmoid": .sigmoid, "nn.sigmoid": .sigmoid, "math.tanh": .tanh,
            "nn.silu": .swish, "nn.swish": .swish, "math.exp": .exponential, "math.negative": .negate, "math.sqrt": .squareRoot,
            "math.reciprocal": .reciprocal,
        ]
        if let kind = binary[function] { return try elementwiseCall(kind, inputs, config, name: name) }
        if let f = unary[function], inputs.count == 1 { return try unaryCall(f, inputs, config, name: name) }
        let known = (Array(binary.keys) + Array(unary.keys)).sorted().joined(separator: ", ")
        throw ModelPressError.unsupportedLayer(
            file: file, layer: config.layer, className: "TFOpLambda",
            reason: "calls TensorFlow function '\(function)', which ModelPress does not decode (it decodes \(known)).\n"
                + "HINT: replace the TensorFlow call with a Keras layer and re-save the model.")
    }

    /// Concatenate along the Keras `axis` (default −1).
    mutating func concatenate(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard !inputs.isEmpty else { throw config.fail("has no inputs") }
        let aligned = try alignLayouts(inputs, config)
        let rank = shape(aligned[0]).count
        var axis = try config.int("axis", default: -1)
        if axis < 0 { axis += rank }
        guard axis >= 1, axis < rank else { throw config.fail("has axis out of range for rank \(rank)") }
        if inputs.contains(where: { mask(of: $0) != nil }), axis != rank - 1 {
            throw config.fail("joins masked sequences along axis \(axis)", hint: "ModelPress joins masked sequences along their features (axis -1)")
        }
        let output = try emit(
            .concat(axis: irAxis(axis, of: aligned[0])), aligned.map(\.name), name: name, layer: config.layer,
            channelsFirst: aligned[0].channelsFirst)
        try mergeMasks(inputs, into: output, and: true, config)
        return output
    }

    /// Brings merge inputs to one layout: NCHW when all are rank 4, else channels-last. Scalars
    /// (numbers written into the call) fit either and stay as they are.
    mutating func alignLayouts(_ inputs: [KerasValue], _ config: KerasConfig) throws -> [KerasValue] {
        let tensors = inputs.filter { !shape($0).isEmpty }
        if tensors.allSatisfy({ shape($0).count == 4 }) {
            return try inputs.map { shape($0).isEmpty ? $0 : try channelsFirst($0, layer: config.layer) }
        }
        return try inputs.map { shape($0).isEmpty ? $0 : try channelsLast($0, layer: config.layer) }
    }
}
