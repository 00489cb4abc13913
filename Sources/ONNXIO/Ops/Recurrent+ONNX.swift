import ONNXProto
import TensorCore

extension Recurrent: ONNXLowering {
    /// `RNN` / `LSTM` / `GRU` in ONNX's time-major layout (layout 0, which every runtime
    /// implements): `Transpose` of `x` to L×N×C, the op with weights in ONNX's gate order (LSTM
    /// i, o, f, c) and `[W_b, R_b]` as `B`, then `Squeeze` + `Transpose` of `Y` back to N×L×H
    /// and `Squeeze` of `Y_h` / `Y_c`.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        func weight(_ name: String) -> Tensor? { b.graph.initializers[name] ?? b.relaidWeights[name]?.tensor }
        guard let x = b.shape(of: node.inputs[0]), let w = weight(node.inputs[1]), let r = weight(node.inputs[2]) else {
            throw ModelPressError.internalError("recurrent node '\(node.name)' without constant weights")
        }
        let h = units, width = cell.gates * units
        let (onnxActivations, alphas, betas) = try onnxActivationAttributes(node)
        let masking = masked.map { _ in MaskedRecurrentLowering(node: node, batch: x[0], steps: x[1], features: x[2], units: h) }
        let firstNode = b.nodes.count
        let compact = try masking?.compacted(&b)
        let timeMajor = b.fresh(node.name + "/time_major")
        b.add("Transpose", name: timeMajor, inputs: [compact?.x ?? node.inputs[0]], output: timeMajor, attributes: [.ints("perm", [1, 0, 2])], shape: [x[1], x[0], x[2]])
        let onnxW = try Self.permuteGateRows(w.transposed([1, 0]), blocks: cell.gates, order: onnxGateOrder).reshaped([1, width, x[2]])
        let onnxR = try Self.permuteGateRows(r.transposed([1, 0]), blocks: cell.gates, order: onnxGateOrder).reshaped([1, width, h])
        var inputs = [
            try onnxWeight(node.inputs[1], onnxW, name: node.name + "/W", &b), try onnxWeight(node.inputs[2], onnxR, name: node.name + "/R", &b),
        ]
        inputs.insert(timeMajor, at: 0)
        if let bias = node.input(.bias).flatMap({ b.graph.initializers[$0] }) {
            let recurrentBias = try node.input(.recurrentBias).flatMap { b.graph.initializers[$0] } ?? Tensor(shape: [width])
            let joined =
                try Self.permuteGateRows(bias.reshaped([width, 1]), blocks: cell.gates, order: onnxGateOrder).storage
                + Self.permuteGateRows(recurrentBias.reshaped([width, 1]), blocks: cell.gates, order: onnxGateOrder).storage
            inputs.append(b.constant(node.name + "/B", try Tensor(shape: [1, 2 * width], storage: joined)))
        }
        if let compact { inputs += (inputs.count == 3 ? [""] : []) + [compact.lengths] }
        var attributes: [Onnx_AttributeProto] = [
            .int("hidden_size", h), .string("direction", reverse ? "reverse" : "forward"), ONNXAttribute.strings("activations", onnxActivations),
        ]
        if !alphas.isEmpty { attributes.append(ONNXAttribute.floats("activation_alpha", alphas)) }
        if !betas.isEmpty { attributes.append(ONNXAttribute.floats("activation_beta", betas)) }
        if case .gru(let resetAfter) = cell { attributes.append(.int("linear_before_reset", resetAfter ? 1 : 0)) }
        let stateShape = [1, x[0], h]
        let rawOutputs = [b.fresh(node.name + "/Y"), b.fresh(node.name + "/Y_h")] + (cell == .lstm ? [b.fresh(node.name + "/Y_c")] : [])
        b.add(
            name, name: node.name, inputs: inputs, outputs: rawOutputs, attributes: attributes,
            shapes: [[x[1], 1, x[0], h], stateShape, stateShape], docString: b.layerDoc(node))
        let squeezed = b.fresh(node.name + "/Y_squeezed")
        b.add("Squeeze", name: squeezed, inputs: [rawOutputs[0], b.int64s(node.name + "/direction_axis", [1])], output: squeezed, shape: [x[1], x[0], h])
        let y = masking == nil ? node.outputs[0] : b.fresh(node.name + "/Y_kept_steps")
        b.add("Transpose", name: b.fresh(node.name + "/batch_major"), inputs: [squeezed], output: y, attributes: [.ints("perm", [1, 0, 2])], shape: masking == nil ? b.graph.shapes[y] : [x[0], x[1], h])
        if let masking, let compact {
            masking.expanded(y, reverse: reverse, counts: compact.counts, output: node.outputs[0], zeroSkipped: masked == .zero, &b)
        }
        let stateAxis = b.int64s(node.name + "/state_axis", [0])
        for (raw, output) in zip(rawOutputs.dropFirst(), node.outputs.dropFirst()) {
            let state = masking == nil ? output : b.fresh(output + "/kept")
            b.add("Squeeze", name: b.fresh(output + "/squeeze"), inputs: [raw, stateAxis], output: state, shape: masking == nil ? b.graph.shapes[output] : [x[0], h])
            if let masking, let compact { masking.state(state, counts: compact.counts, output: output, &b) }
        }
        if masking != nil {
            // Quantized weights' DequantizeLinear nodes are read back by the QDQ folding, not by the record.
            let lowered = b.nodes[firstNode...].filter { $0.name != node.name && $0.opType != "DequantizeLinear" }
            func reader(_ opType: String, of value: String) -> String { lowered.first { $0.opType == opType && $0.input.first == value }?.name ?? "" }
            b.maskedRecurrences.append(
                MaskedRecurrenceRecord(
                    node: node.name, sequenceReader: reader("GatherElements", of: node.inputs[0]), maskReader: reader("Mul", of: node.inputs[3]),
                    outputWriters: node.outputs.map { output in lowered.first { $0.output.first == output }?.name ?? "" }, skipped: masked == .zero ? "zero" : "state",
                    nodes: lowered.map(\.name)))
        }
    }
    var lowersOnIntegers: Bool { false }

    /// `tensor` (W or R in ONNX's layout 1×G·H×K) as a constant named after `name`; when the IR
    /// weight `irName` is quantized (dynamic int8), as int8 behind a DequantizeLinear whose
    /// per-channel scales follow the rows into ONNX's gate order.
    private func onnxWeight(_ irName: String, _ tensor: Tensor, name: String, _ b: inout ONNXGraphBuilder) throws -> String {
        guard var q = b.relaidWeights[irName]?.quantization else { return b.constant(name, tensor) }
        if q.scales.count > 1 {
            // IR channels are the G·H columns (axis 1 of K×G·H): the rows of ONNX's G·H×K, reordered.
            q.scales = try Self.permuteGateRows(try Tensor(shape: [q.scales.count, 1], storage: q.scales), blocks: cell.gates, order: onnxGateOrder).storage
            q.zeroPoints = [Int32](repeating: 0, count: q.scales.count)
            q.axis = 1
        }
        let value = b.fresh(name)
        try b.dequantizeConstant(value, tensor, q)
        return value
    }

    /// ONNX's gate order as positions in Keras's: LSTM i, o, f, c; GRU z, r, h (the same).
    var onnxGateOrder: [Int] { cell == .lstm ? [0, 3, 1, 2] : Array(0..<cell.gates) }

    /// Keras's gate order as positions in ONNX's (the inverse permutation).
    var kerasGateOrderFromONNX: [Int] { (0..<cell.gates).map { k in onnxGateOrder.firstIndex(of: k) ?? k } }

    /// The op's activations as ONNX lists them (RNN: the candidate; LSTM: f, g, h; GRU: f, g),
    /// with the alpha / beta values of those that take them, in order.
    func onnxActivationAttributes(_ node: Node) throws -> ([String], [Float], [Float]) {
        let functions: [Activation]
        switch cell {
        case .simple: functions = [candidate]
        case .lstm: functions = [gate, candidate, output]
        case .gru: functions = [gate, candidate]
        }
        var names: [String] = [], alphas: [Float] = [], betas: [Float] = []
        for f in functions {
            switch f {
            case .sigmoid: names.append("Sigmoid")
            case .tanh: names.append("Tanh")
            case .relu: names.append("Relu")
            case .softsign: names.append("Softsign")
            case .softplus: names.append("Softplus")
            case .hardSigmoid(let alpha, let beta):
                names.append("HardSigmoid")
                alphas.append(alpha)
                betas.append(beta)
            case .leakyRelu(let alpha):
                names.append("LeakyRelu")
                alphas.append(alpha)
            case .elu(let alpha):
                names.append("Elu")
                alphas.append(alpha)
            default:
                throw ModelPressError.unsupportedLayer(
                    file: "", layer: node.layer, className: name,
                    reason: "uses activation \(f), which ONNX recurrent operators do not offer.\nHINT: use sigmoid, tanh, relu, hard_sigmoid, leaky_relu, elu, softsign or softplus in recurrent layers.")
            }
        }
        return (names, alphas, betas)
    }

    /// `m` (G·B rows in G blocks, any columns) with output block `j` = input block `order[j]`.
    static func permuteGateRows(_ m: Tensor, blocks: Int, order: [Int]) throws -> Tensor {
        let rows = m.shape[0] / blocks, columns = m.count / m.shape[0]
        var storage: [Float] = []
        storage.reserveCapacity(m.count)
        for block in order { storage += m.storage[(block * rows * columns)..<((block + 1) * rows * columns)] }
        return try Tensor(shape: m.shape, storage: storage)
    }
}

/// An output of an ONNX recurrent node that has a direction axis, held as one IR value per
/// direction: `Y` (per direction N×L×H) in its time-major layout (L×D×N×H, or L×N×D×H after
/// `Transpose(0, 2, 1, 3)`), or a final state (D×N×H, per direction N×H).
struct DirectionalValue {
    /// The layout of the ONNX value.
    enum Layout { case sequence, sequenceDirectionLast, state }
    var parts: [String]
    var layout: Layout
}

// Import: RNN / LSTM / GRU, and the time-major values around them
extension ONNXImportContext {
    /// `RNN` / `LSTM` / `GRU` (layout 0): one IR node per direction, reading `X` as a time-major
    /// view (`Transpose(1, 0, 2)` of a batch-major value) and leaving `Y`, `Y_h`, `Y_c` as
    /// directional values that `Squeeze` / `Transpose` / `Reshape` / `Gather` bring back (or, as
    /// the exporter writes them, IR values named after the nodes that do). Initial states and `sequence_lens` must be absent or say nothing (zeros,
    /// the full length); peepholes, `clip` and `input_forget` are refused.
    mutating func importRecurrent(_ node: Onnx_NodeProto, _ i: Int) throws {
        let cell: Recurrent.Cell
        switch node.opType {
        case "LSTM": cell = .lstm
        case "GRU": cell = .gru(resetAfter: node.int("linear_before_reset", default: 0) != 0)
        default: cell = .simple
        }
        guard node.int("layout", default: 0) == 0 else {
            throw fail(node, "uses the batch-major layout 1, which onnxruntime does not run either; ModelPress reads the time-major layout 0")
        }
        let record = maskedRecurrences[i]
        guard let x = record?.input ?? timeMajor[node.input[0]] else {
            throw fail(node, "reads '\(node.input[0])' time-major, and ModelPress reads a recurrent input only as Transpose(perm 1, 0, 2) of a batch-major sequence")
        }
        let xs = try shape(x, node)
        guard xs.count == 3 else { throw fail(node, "expects a 3-D sequence, got \(xs)") }
        let (steps, features) = (xs[1], xs[2])
        let units = node.int("hidden_size", default: 0)
        let directions = node.string("direction", default: "forward") == "bidirectional" ? 2 : 1
        guard (1...Recurrent.maxUnits).contains(units) else { throw fail(node, "has hidden_size \(units)") }
        let width = cell.gates * units
        let w = try constantInput(node, 1, what: "W").tensor, r = try constantInput(node, 2, what: "R").tensor
        guard w.shape == [directions, width, features], r.shape == [directions, width, units] else {
            throw fail(node, "has W \(w.shape) and R \(r.shape) for \(directions) direction(s), \(units) units and \(features) features")
        }
        let b = node.input.count > 3 && !node.input[3].isEmpty ? try constantInput(node, 3, what: "B").tensor : nil
        guard b == nil || b!.shape == [directions, 2 * width] else { throw fail(node, "has B \(b!.shape), expected [\(directions), \(2 * width)]") }
        try refuseRecurrentExtras(node, steps: steps, lengthsFromMask: record != nil)
        let activations = try recurrentActivations(node, cell: cell, directions: directions)
        let order = Recurrent(cell: cell, units: units, reverse: false).kerasGateOrderFromONNX
        var outputs: [[String]] = []
        for d in 0..<directions {
            let reverse = node.string("direction", default: "forward") == "reverse" || d == 1
            let perDirection = activations[d]
            let op = Recurrent(
                cell: cell, units: units, reverse: reverse, gate: perDirection.gate, candidate: perDirection.candidate, output: perDirection.output,
                masked: record?.skipped)
            let base = nodeName(node, i) + (directions == 2 ? (d == 0 ? "/forward" : "/backward") : "")
            let wd = try Recurrent.permuteGateRows(try slice(w, d), blocks: cell.gates, order: order).transposed([1, 0])
            let rd = try Recurrent.permuteGateRows(try slice(r, d), blocks: cell.gates, order: order).transposed([1, 0])
            var inputs = [x, try addInitializer(wd, named: base + "/kernel"), try addInitializer(rd, named: base + "/recurrent_kernel")] + (record.map { [$0.mask] } ?? [])
            if let b {
                let both = try slice(b, d).storage
                let wb = try Recurrent.permuteGateRows(try Tensor(shape: [width, 1], storage: Array(both[0..<width])), blocks: cell.gates, order: order)
                let rb = try Recurrent.permuteGateRows(try Tensor(shape: [width, 1], storage: Array(both[width...])), blocks: cell.gates, order: order)
                if case .gru(true) = cell {
                    inputs += [try addInitializer(wb.reshaped([width]), named: base + "/bias"), try addInitializer(rb.reshaped([width]), named: base + "/recurrent_bias")]
                } else {
                    // Input and recurrent biases add up, except a reset-before GRU's candidate's recurrent bias, which ModelPress
                    // cannot place (it sits inside r⊙(h·R_h + rb_h)); refused unless zero.
                    if case .gru(false) = cell, rb.storage[(2 * units)...].contains(where: { $0 != 0 }) {
                        throw fail(node, "has a recurrent candidate bias with linear_before_reset 0, which ModelPress does not model")
                    }
                    let sum = zip(wb.storage, rb.storage).map { $0 + $1 }
                    inputs.append(try addInitializer(try Tensor(shape: [width], storage: sum), named: base + "/bias"))
                }
            }
            if let record {
                // The recorded outputs are the IR node's own: its lowering's other nodes are absorbed.
                guard directions == 1, record.outputs.count == (cell == .lstm ? 3 : 2), graph.shapes[record.mask] != nil else {
                    throw fail(node, "is recorded as masked, with outputs or a mask that do not fit it")
                }
                try materialize(inputs)
                try graph.append(Node(name: nodeName(node, i), op: .recurrent(op), inputs: inputs, outputs: record.outputs, layer: layer(node)))
                return
            }
            let names = [base + "/y", base + "/h"] + (cell == .lstm ? [base + "/c"] : [])
            var unique = names.map { uniqueConstantName($0) }
            if directions == 1 {
                // The batch-major form of each output when the next nodes only restore it (as the exporter writes them): IR
                // outputs under those nodes' names, the nodes absorbed (export → import → export keeps the bytes).
                for k in unique.indices where k < node.output.count {
                    if let restored = batchMajorReaders(of: node.output[k], sequence: k == 0) {
                        unique[k] = restored.value
                        absorbed.formUnion(restored.nodes)
                    }
                }
            }
            try materialize(inputs)
            try graph.append(Node(name: base, op: .recurrent(op), inputs: inputs, outputs: unique, layer: layer(node)))
            outputs.append(unique)
        }
        for (k, out) in node.output.enumerated() where !out.isEmpty && k < outputs[0].count && graph.shapes[outputs[0][k]] != nil {
            directional[out] = DirectionalValue(parts: outputs.map { $0[k] }, layout: k == 0 ? .sequence : .state)
        }
    }

    /// The nodes that only bring a one-direction recurrent output back to batch-major:
    /// `Squeeze(axes 1)` + `Transpose(1, 0, 2)` of `Y`, `Squeeze(axes 0)` of a state — each
    /// the only reader of what it reads. Returns the batch-major value and the nodes.
    private func batchMajorReaders(of value: String, sequence: Bool) -> (value: String, nodes: [Int])? {
        func onlyReader(_ v: String, _ opType: String) -> (Int, Onnx_NodeProto)? {
            guard let r = readers[v], r.count == 1, !outputNames.contains(v), !absorbed.contains(r[0]) else { return nil }
            let reader = onnx.node[r[0]]
            guard reader.opType == opType, reader.domain.isEmpty, reader.output.count == 1, reader.input.first == v else { return nil }
            return (r[0], reader)
        }
        guard let (s, squeeze) = onlyReader(value, "Squeeze") else { return nil }
        let axes = opset >= 13 ? (try? integers(squeeze, 1, what: "axes")) ?? nil : squeeze.ints("axes")
        guard axes == [sequence ? 1 : 0] else { return nil }
        guard sequence else { return (squeeze.output[0], [s]) }
        guard let (t, transpose) = onlyReader(squeeze.output[0], "Transpose"), transpose.ints("perm") == [1, 0, 2] else { return nil }
        return (transpose.output[0], [s, t])
    }

    /// Refuses initial states other than zeros, `sequence_lens` other than the full length
    /// (unless they count a recorded mask's kept steps), peepholes, `clip` and `input_forget`.
    private func refuseRecurrentExtras(_ node: Onnx_NodeProto, steps: Int, lengthsFromMask: Bool) throws {
        if node.input.count > 4, !node.input[4].isEmpty, !lengthsFromMask {
            guard uniformValue(node.input[4]) == Double(steps) else {
                throw fail(node, "has sequence_lens other than the full length; ModelPress runs every sequence to its end")
            }
        }
        for k in 5..<max(5, min(node.input.count, 8)) where !node.input[k].isEmpty {
            let what = k == 7 ? "peephole weights" : "an initial state"
            guard uniformValue(node.input[k]) == 0 else {
                throw fail(node, "has \(what) that is not zero; ModelPress starts from zero states")
            }
        }
        if node.attribute("clip") != nil { throw fail(node, "clips its cell state (clip), which ModelPress does not model") }
        if node.int("input_forget", default: 0) != 0 { throw fail(node, "couples its input and forget gates (input_forget), which ModelPress does not model") }
    }

    /// The activations of each direction, from `activations` / `activation_alpha` /
    /// `activation_beta` (ONNX's defaults where absent).
    private func recurrentActivations(_ node: Onnx_NodeProto, cell: Recurrent.Cell, directions: Int) throws -> [(gate: Activation, candidate: Activation, output: Activation)] {
        let perDirection = cell == .simple ? 1 : (cell == .lstm ? 3 : 2)
        let defaults = cell == .simple ? ["Tanh"] : (cell == .lstm ? ["Sigmoid", "Tanh", "Tanh"] : ["Sigmoid", "Tanh"])
        let names = node.attribute("activations").map { $0.strings.map { String(decoding: $0, as: UTF8.self) } } ?? Array(repeating: defaults, count: directions).flatMap { $0 }
        guard names.count == perDirection * directions else { throw fail(node, "lists \(names.count) activations for \(directions) direction(s)") }
        var alphas = node.attribute("activation_alpha")?.floats[...] ?? [], betas = node.attribute("activation_beta")?.floats[...] ?? []
        var functions: [Activation] = []
        for name in names {
            switch name.lowercased() {
            case "sigmoid": functions.append(.sigmoid)
            case "tanh": functions.append(.tanh)
            case "relu": functions.append(.relu)
            case "softsign": functions.append(.softsign)
            case "softplus": functions.append(.softplus)
            case "hardsigmoid": functions.append(.hardSigmoid(alpha: alphas.popFirst() ?? 0.2, beta: betas.popFirst() ?? 0.5))
            case "leakyrelu": functions.append(.leakyRelu(alpha: alphas.popFirst() ?? 0.01))
            case "elu": functions.append(.elu(alpha: alphas.popFirst() ?? 1))
            default: throw fail(node, "uses activation '\(name)', which ModelPress does not run in recurrent layers")
            }
        }
        return (0..<directions).map { d in
            let f = Array(functions[(d * perDirection)..<((d + 1) * perDirection)])
            switch cell {
            case .simple: return (.sigmoid, f[0], .tanh)
            case .lstm: return (f[0], f[1], f[2])
            case .gru: return (f[0], f[1], .tanh)
            }
        }
    }

    /// Direction `d` of a D×… tensor.
    private func slice(_ t: Tensor, _ d: Int) throws -> Tensor {
        let size = t.count / t.shape[0]
        return try Tensor(shape: Array(t.shape.dropFirst()), storage: Array(t.storage[(d * size)..<((d + 1) * size)]))
    }

    /// The one number every element of `name` holds, when known: a constant, or a fill whose
    /// shape depends on the batch size.
    func uniformValue(_ name: String) -> Double? {
        if let fill = filled[name] { return fill.value }
        guard let c = constants[name], let first = c.tensor.storage.first, c.tensor.storage.allSatisfy({ $0 == first }) else { return nil }
        return Double(first)
    }

    /// The shape of a time-major view: its batch-major source's with the first two axes swapped.
    func timeMajorShape(_ name: String) -> [Int]? {
        guard let source = timeMajor[name], var s = graph.shapes[source], s.count >= 2 else { return nil }
        s.swapAt(0, 1)
        return s
    }

    /// The time-major and directional values around recurrent nodes: `Transpose(1, 0, 2)` of a
    /// batch-major sequence (a view, no IR node) or back; `Squeeze` of a one-direction `Y` or
    /// state; `Transpose(0, 2, 1, 3)` + `Reshape` to L×N×D·H of a two-direction `Y` (a
    /// concatenation along the features). Returns false for any other node.
    mutating func importRecurrentLayout(_ node: Onnx_NodeProto, _ i: Int) throws -> Bool {
        let input = node.input.first ?? "", out = node.output.first ?? ""
        switch node.opType {
        case "Transpose":
            let perm = node.ints("perm")
            if let source = timeMajor[input], perm == [1, 0, 2] {
                try emit(node, i, .identity, [source])
                return true
            }
            if let value = directional[input], value.layout == .sequence, perm == [0, 2, 1, 3] {
                directional[out] = DirectionalValue(parts: value.parts, layout: .sequenceDirectionLast)
                return true
            }
            if let s = graph.shapes[input], s.count == 3, perm == [1, 0, 2], readers[out]?.isEmpty == false, !outputNames.contains(out) {
                timeMajor[out] = input
                return true
            }
        case "Squeeze" where timeMajor[input] != nil:
            // The time axis of a one-step sequence (`y[-1:]` squeezed): batch-major N×….
            let source = timeMajor[input]!, s = try shape(source, node)
            let axes = try (opset >= 13 ? integers(node, 1, what: "axes") : node.ints("axes"))
            guard axes == [0], s.count >= 2, s[1] == 1 else { throw fail(node, "squeezes axes other than the single time step of a time-major sequence") }
            try emit(node, i, .reshape(Array(s.dropFirst(2))), [source])
            return true
        case "Slice" where timeMajor[input] != nil:
            // A crop of the time axis (and others) of a time-major sequence: the crop of its batch-major source.
            let source = timeMajor[input]!, s = try shape(source, node)
            guard let starts = try integers(node, 1, what: "starts"), let ends = try integers(node, 2, what: "ends"),
                let axes = try integers(node, 3, what: "axes") ?? Optional(Array(0..<starts.count)), (try integers(node, 4, what: "steps") ?? []).allSatisfy({ $0 == 1 }),
                starts.count == ends.count, axes.count == starts.count
            else { throw fail(node, "slices a time-major sequence with steps other than 1") }
            var begin = [Int](repeating: 0, count: s.count), end = s
            for (k, a0) in axes.enumerated() {
                let a = a0 < 0 ? a0 + s.count : a0
                guard a != 1, a >= 0, a < s.count else { throw fail(node, "slices the batch axis of a time-major sequence") }
                let axis = a == 0 ? 1 : a
                func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + s[axis] : v, 0), s[axis]) }
                (begin[axis], end[axis]) = (clamp(starts[k]), clamp(ends[k]))
            }
            end[0] = dynamicBatch
            timeMajor[out] = try appendIntermediate(node, .slice(begin: begin, end: end), [source], named: out + "/batch_major")
            return true
        case "ReverseSequence" where timeMajor[input] != nil:
            // tf2onnx's go_backwards: every sequence reversed whole (lengths all the step count).
            let source = timeMajor[input]!, s = try shape(source, node)
            guard node.int("time_axis", default: 0) == 0, node.int("batch_axis", default: 1) == 1, node.input.count > 1, uniformValue(node.input[1]) == Double(s[1]) else {
                throw fail(node, "reverses sequences by other lengths than their full \(s[1]) steps")
            }
            timeMajor[out] = try appendIntermediate(node, .reverse(Reverse(axis: 1)), [source], named: out + "/batch_major")
            return true
        case "Squeeze":
            guard let value = directional[input], value.parts.count == 1 else { return false }
            let axes = try (opset >= 13 ? integers(node, 1, what: "axes") : node.ints("axes"))
            switch value.layout {
            case .sequence where axes == [1]: timeMajor[out] = value.parts[0]
            case .sequenceDirectionLast where axes == [2]: timeMajor[out] = value.parts[0]
            case .state where axes == [0]: try emit(node, i, .identity, [value.parts[0]])
            default: throw fail(node, "squeezes axes \(axes.map(String.init(describing:)) ?? "none") of a recurrent output; ModelPress reads only its direction axis")
            }
            return true
        case "Gather":
            // PyTorch's `h[d]`: one direction (or layer) of a final state.
            guard let value = directional[input], value.layout == .state else { return false }
            guard node.int("axis", default: 0) == 0, let index = try integers(node, 1, what: "indices"), index.count == 1,
                constants[node.input[1]]?.shape.isEmpty == true, (-value.parts.count..<value.parts.count).contains(index[0])
            else { throw fail(node, "gathers from a recurrent state other than one direction by a constant scalar index") }
            try emit(node, i, .identity, [value.parts[(index[0] + value.parts.count) % value.parts.count]])
            return true
        case "Reshape":
            guard let value = directional[input] else { return false }
            guard value.layout == .sequenceDirectionLast || (value.layout == .sequence && value.parts.count == 1),
                let spec = try reshapeSpec(node), spec.count == 3, spec.last.map({ $0 == -1 || $0 == value.parts.count * (graph.shapes[value.parts[0]]?.last ?? 0) }) == true
            else { throw fail(node, "reshapes a recurrent output other than to steps × batch × directions·units") }
            let joined = value.parts.count == 1 ? value.parts[0] : try appendIntermediate(node, .concat(axis: 2), value.parts, named: out + "/batch_major")
            timeMajor[out] = joined
            return true
        default:
            break
        }
        if let value = directional[input] ?? nil, value.parts.isEmpty == false {
            throw fail(node, "reads the output '\(input)' of a recurrent node in its time-major layout; ModelPress reads it only through Squeeze, Transpose and Reshape back to batch-major")
        }
        return false
    }
}
