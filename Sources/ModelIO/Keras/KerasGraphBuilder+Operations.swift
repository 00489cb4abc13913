import TensorCore

/// Keras 3 operations called on symbolic tensors (`x + 3.0`, `ops.mean(x, axis=[1, 2])`), which a
/// Functional config records as nodes of module `keras.src.ops.numpy` / `keras.src.ops.nn` with
/// the call's arguments in their config. The ones models use are decoded; any other is refused
/// by name (they are never executed).
let kerasOperationConverters: [String: KerasLayerConverter] = [
    "Add": { b, _, c, x, n in try b.elementwiseCall(.add, x, c, name: n) },
    // The masks Keras 3 records for layers that take `mask=` (KerasGraphBuilder+Masks.swift).
    "NotEqual": { b, _, c, x, n in try b.notEqualCall(x, c, name: n) },
    "Any": { b, _, c, x, n in try b.anyCall(try operand(x, c), c) },
    "LogicalOr": { b, _, c, x, n in try b.elementwiseCall(.maximum, x, c, name: n) },
    "LogicalAnd": { b, _, c, x, n in try b.elementwiseCall(.multiply, x, c, name: n) },
    "Subtract": { b, _, c, x, n in try b.elementwiseCall(.subtract, x, c, name: n) },
    "Multiply": { b, _, c, x, n in try b.elementwiseCall(.multiply, x, c, name: n) },
    "Divide": { b, _, c, x, n in try b.elementwiseCall(.divide, x, c, name: n) },
    "TrueDivide": { b, _, c, x, n in try b.elementwiseCall(.divide, x, c, name: n) },
    "Maximum": { b, _, c, x, n in try b.elementwiseCall(.maximum, x, c, name: n) },
    "Minimum": { b, _, c, x, n in try b.elementwiseCall(.minimum, x, c, name: n) },
    "Square": { b, _, c, x, n in try b.elementwiseCall(.multiply, [try operand(x, c), try operand(x, c)], c, name: n) },
    "Relu": { b, _, c, x, n in try b.unaryCall(.relu, x, c, name: n) },
    "Relu6": { b, _, c, x, n in try b.unaryCall(.clip(min: 0, max: 6), x, c, name: n) },
    "Sigmoid": { b, _, c, x, n in try b.unaryCall(.sigmoid, x, c, name: n) },
    "HardSigmoid": { b, _, c, x, n in try b.unaryCall(.hardSigmoid(alpha: 1.0 / 6.0, beta: 0.5), x, c, name: n) },
    "HardSilu": { b, _, c, x, n in try b.unaryCall(.hardSwish, x, c, name: n) },
    "HardSwish": { b, _, c, x, n in try b.unaryCall(.hardSwish, x, c, name: n) },
    "Silu": { b, _, c, x, n in try b.unaryCall(.swish, x, c, name: n) },
    "Swish": { b, _, c, x, n in try b.unaryCall(.swish, x, c, name: n) },
    "Gelu": { b, _, c, x, n in try b.unaryCall(.gelu(approximate: try c.bool("approximate", default: true)), x, c, name: n) },
    "Tanh": { b, _, c, x, n in try b.unaryCall(.tanh, x, c, name: n) },
    "Softplus": { b, _, c, x, n in try b.unaryCall(.softplus, x, c, name: n) },
    "Softsign": { b, _, c, x, n in try b.unaryCall(.softsign, x, c, name: n) },
    "Selu": { b, _, c, x, n in try b.unaryCall(.selu, x, c, name: n) },
    "Elu": { b, _, c, x, n in try b.unaryCall(.elu(alpha: try c.float("alpha", default: 1)), x, c, name: n) },
    "LeakyRelu": { b, _, c, x, n in try b.unaryCall(.leakyRelu(alpha: try c.float("negative_slope", default: 0.2)), x, c, name: n) },
    "Exp": { b, _, c, x, n in try b.unaryCall(.exponential, x, c, name: n) },
    "Negative": { b, _, c, x, n in try b.unaryCall(.negate, x, c, name: n) },
    "Sqrt": { b, _, c, x, n in try b.unaryCall(.squareRoot, x, c, name: n) },
    "Reciprocal": { b, _, c, x, n in try b.unaryCall(.reciprocal, x, c, name: n) },
    "Clip": { b, _, c, x, n in
        try b.unaryCall(.clip(min: try c.float("x_min", default: -.infinity), max: try c.float("x_max", default: .infinity)), x, c, name: n)
    },
    "Softmax": { b, _, c, x, n in try b.softmaxLayer(try operand(x, c), c, name: n) },
    "Mean": { b, _, c, x, n in try b.meanCall(try operand(x, c), c, name: n) },
    "Max": { b, _, c, x, n in try b.spatialMaxCall(try operand(x, c), c, name: n) },
    "Concatenate": { b, _, c, x, n in try b.concatenate(x, c, name: n) },
    "Reshape": { b, _, c, x, n in
        let input = try operand(x, c)
        let target = c.json["newshape"]?.array ?? []
        guard let first = target.first, first.int == -1 || first.isNull, target.allSatisfy({ $0.int != nil || $0.isNull }) else {
            throw c.fail("reshapes to \(c.json["newshape"].map { "\($0)" } ?? "nothing"), which does not keep the batch axis first")
        }
        return try b.reshaped(input, to: target.dropFirst().map { $0.int ?? -1 }, c, name: n)
    },
    "Transpose": { b, _, c, x, n in
        let input = try b.channelsLast(try operand(x, c), layer: c.layer)
        let axes = c.json["axes"]?.array?.compactMap(\.int) ?? Array((0..<b.shape(input).count).reversed())
        guard axes.first == 0, axes.sorted() == Array(0..<b.shape(input).count) else { throw c.fail("permutes the batch axis (axes \(axes))") }
        return try b.emit(.transpose(axes), [input.name], name: n, layer: c.layer, channelsFirst: false)
    },
    "ExpandDims": { b, _, c, x, n in
        let input = try b.channelsLast(try operand(x, c), layer: c.layer)
        var s = b.shape(input)
        var axis = try c.int("axis", default: -1)
        if axis < 0 { axis += s.count + 1 }
        guard axis >= 1, axis <= s.count else { throw c.fail("inserts axis \(axis) before the batch axis") }
        s.insert(1, at: axis)
        return try b.reshaped(input, to: Array(s.dropFirst()), c, name: n)
    },
    "Squeeze": { b, _, c, x, n in
        let input = try b.channelsLast(try operand(x, c), layer: c.layer)
        let s = b.shape(input)
        let axes = (c.json["axis"]?.array?.compactMap(\.int) ?? c.json["axis"]?.int.map { [$0] } ?? Array(1..<s.count).filter { s[$0] == 1 })
            .map { $0 < 0 ? $0 + s.count : $0 }
        guard axes.allSatisfy({ $0 >= 1 && $0 < s.count && s[$0] == 1 }) else { throw c.fail("squeezes axes \(axes) of \(s), which are not non-batch axes of size 1") }
        return try b.reshaped(input, to: s.indices.dropFirst().filter { !axes.contains($0) }.map { s[$0] }, c, name: n)
    },
]

/// The one tensor an operation is called on.
private func operand(_ inputs: [KerasValue], _ config: KerasConfig) throws -> KerasValue {
    guard inputs.count == 1, let x = inputs.first else { throw config.fail("is called on \(inputs.count) operands; ModelPress reads it with one") }
    return x
}

extension KerasGraphBuilder {
    /// Whether a layer entry is a Keras 3 operation, not a layer: its module is `keras.src.ops.*`,
    /// or (Keras 3 `.h5`, which records no module) its config has no `trainable`, which every layer's has.
    static func isOperation(_ layer: KerasLayerSpec) -> Bool {
        if let module = layer.module { return module.hasPrefix("keras.src.ops.") || module.hasPrefix("keras.ops.") }
        return layer.config["trainable"] == nil && kerasOperationConverters[layer.className] != nil
    }

    /// A binary elementwise call on tensors or numbers (Keras 3 `x + 3.0`, tf-keras `__operators__.add`).
    mutating func elementwiseCall(_ kind: ElementwiseOp, _ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard inputs.count == 2 else { throw config.fail("is called on \(inputs.count) operand(s); ModelPress reads it with two") }
        let aligned = try alignLayouts(inputs, config)
        let layout = aligned.first { !shape($0).isEmpty } ?? aligned[0]
        return try emit(.elementwise(kind), aligned.map(\.name), name: name, layer: config.layer, channelsFirst: layout.channelsFirst)
    }

    /// An elementwise function of one tensor, in the tensor's layout.
    mutating func unaryCall(_ f: Activation, _ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        let x = try operand(inputs, config)
        return try emit(.activation(f), [x.name], name: name, layer: config.layer, channelsFirst: x.channelsFirst)
    }

    /// `ops.mean(x, axis, keepdims)`: the mean over Keras axes (all non-batch axes by default).
    mutating func meanCall(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let rank = shape(x).count
        let keep = try config.bool("keepdims", default: false)
        let kerasAxes = try reductionAxes(config, rank: rank)
        // Without keepdims, NCHW reduces in place only when the axes left keep Keras's order.
        let irAxes = kerasAxes.map { irAxis($0, of: x) }
        let keptInKerasOrder = (0..<rank).filter { !kerasAxes.contains($0) }.map { irAxis($0, of: x) }
        let input = keep || keptInKerasOrder == keptInKerasOrder.sorted() ? x : try channelsLast(x, layer: config.layer)
        let axes = input.channelsFirst ? irAxes : kerasAxes
        return try emit(.reduceMean(ReduceMean(axes: axes, keepDims: keep)), [input.name], name: name, layer: config.layer, channelsFirst: keep && input.channelsFirst)
    }

    /// `ops.max(x, axis=(1, 2))` on an image: global max pooling (other axes are refused).
    mutating func spatialMaxCall(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let axes = try reductionAxes(config, rank: shape(x).count)
        guard shape(x).count == 4, axes == [1, 2] else {
            throw config.fail("takes the maximum over axes \(axes); ModelPress reads ops.max over the two spatial axes of an image")
        }
        return try globalPooling(x, config, name: name, max: true)
    }

    /// The sorted Keras axes of a reduction's `axis` (an integer, a list, or none = every non-batch axis).
    private func reductionAxes(_ config: KerasConfig, rank: Int) throws -> [Int] {
        let raw = config.json["axis"]?.array?.compactMap(\.int) ?? config.json["axis"]?.int.map { [$0] } ?? Array(1..<rank)
        let axes = raw.map { $0 < 0 ? $0 + rank : $0 }.sorted()
        guard !axes.isEmpty, axes.allSatisfy({ $0 >= 1 && $0 < rank }), Set(axes).count == axes.count else {
            throw config.fail("reduces axes \(raw), which are not distinct non-batch axes of a rank-\(rank) tensor")
        }
        return axes
    }

    /// `x` (in Keras layout) reshaped to `N×target`; one −1 in `target` takes the rest.
    mutating func reshaped(_ x: KerasValue, to target: [Int], _ config: KerasConfig, name: String) throws -> KerasValue {
        let input = try channelsLast(x, layer: config.layer)
        var target = target
        let total = Checked.product(shape(input).dropFirst()) ?? 0
        if let unknown = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != unknown }.map(\.element)
            guard let rest = Checked.product(known), rest > 0, total % rest == 0 else {
                throw config.fail("cannot reshape \(shape(input)) to \(target)")
            }
            target[unknown] = total / rest
        }
        guard target.allSatisfy({ $0 >= 1 }), Checked.product(target) == total else { throw config.fail("cannot reshape \(shape(input)) to \(target)") }
        return try emit(.reshape(target), [input.name], name: name, layer: config.layer, channelsFirst: false)
    }
}
