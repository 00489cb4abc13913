import ONNXProto
import TensorCore

/// The dynamic-quantization form (`modelpress quantize --dynamic`, like onnxruntime's
/// `quantize_dynamic`): weights are stored as integers, activations are quantized at run time.
/// A Dense whose weights are annotated int8 and whose input is not annotated becomes
///
///     x ─ DynamicQuantizeLinear ─ (x_q uint8, s_x, zp_x)
///     MatMulInteger(x_q, W_q int8 [K×M], zp_x) → int32 ─ Cast(float) ─ Mul(s_x · s_w) ─ Add(bias) → y
///
/// where `s_x · s_w` is a per-column [M] (per-channel weights) or scalar product computed in
/// the graph. A Conv likewise becomes DynamicQuantizeLinear → ConvInteger → Cast → Mul(s_x ·
/// s_w [O×1×1]) → Add(bias [O×1×1]) on int8 weights (zero point omitted: 0). An LSTM's W and
/// R are stored as int8 in ONNX's layout behind a DequantizeLinear (standard ops;
/// onnxruntime's DynamicQuantizeLSTM is a contrib op). Any other annotated initializer is
/// stored as integers behind a DequantizeLinear.
extension ONNXGraphBuilder {
    /// Lowers `original` (annotations on weights only) in the dynamic form.
    mutating func lowerDynamic(original: Graph) throws {
        if let (name, q) = original.quantization.sorted(by: { $0.key < $1.key }).first(where: { $0.value.bits != 8 && $0.value.type != .int32 }) {
            throw ModelPressError.invalidArgument("'\(name)' is quantized to \(q.type.rawValue); dynamic quantization writes int8 weights only.\nHINT: leave out --bits 16 with --dynamic.")
        }
        if let activation = original.quantization.keys.sorted().first(where: { original.initializers[$0] == nil }) {
            throw ModelPressError.internalError("dynamic form: activation '\(activation)' is annotated; dynamic quantization annotates weights only")
        }
        var dynamic: [Int] = []
        var consumed = Set<String>()
        for (i, node) in original.nodes.enumerated() {
            guard let operands = node.computeOperands, node.hasIntegerKernel, let q = original.quantization[operands.weight], q.type == .int8,
                q.zeroPoints.allSatisfy({ $0 == 0 }), q.axis == nil || q.axis == operands.channelAxis,
                original.initializers[node.inputs[0]] == nil
            else { continue }
            dynamic.append(i)
            consumed.insert(node.inputs[1])
        }
        consumed.formUnion(relayRecurrentWeights(of: original.nodes, weights: original.initializers, quantization: original.quantization))
        for name in original.quantization.keys.sorted() where !consumed.contains(name) {
            guard let tensor = original.initializers[name], let q = original.quantization[name] else { continue }
            try dequantizeConstant(name, tensor, q)
        }
        let dynamicSet = Set(dynamic)
        for (i, node) in original.nodes.enumerated() {
            if dynamicSet.contains(i), case .conv2D(let a) = node.op {
                try lowerDynamicConv(node, a, original)
            } else if dynamicSet.contains(i) {
                try lowerDynamicLinear(node, original)
            } else {
                try lower(node)
            }
        }
    }

    /// One Dense in the DynamicQuantizeLinear → MatMulInteger → Cast → Mul → Add form.
    private mutating func lowerDynamicLinear(_ node: Node, _ original: Graph) throws {
        let weightName = node.inputs[1]
        guard let w = original.initializers[weightName], let q = original.quantization[weightName], w.rank == 2 else {
            throw ModelPressError.internalError("dynamic form: Dense '\(node.name)' has no 2-D annotated weight")
        }
        let shape = graph.shapes[node.output]
        let doc = node.layer == node.name ? "" : "layer: \(node.layer)"
        let m = w.shape[1], channels = q.scales.count
        let ints = w.storage.enumerated().map { i, x in q.quantize(x, channel: channels == 1 ? 0 : i % m) }
        let weights = fresh(weightName + "/q")
        appendInitializer(ONNXTensor.quantized(weights, ints, shape: w.shape, type: .int8))
        let weightScale =
            channels == 1
            ? scalar(weightName + "/scale", q.scales[0])
            : constant(weightName + "/scale", try Tensor(shape: [channels], storage: q.scales))

        let base = node.name
        let (xq, xs, xzp) = appendDynamicQuantize(node.inputs[0], base: base)
        let accumulator = fresh(base + "/acc")
        add("MatMulInteger", name: accumulator, inputs: [xq, weights, xzp], output: accumulator, shape: nil)
        let bias = node.bias
        appendRescale(node, accumulator: accumulator, inputScale: xs, weightScale: weightScale, bias: bias, shape: shape, doc: doc)
    }

    /// One Conv in the DynamicQuantizeLinear → ConvInteger → Cast → Mul → Add form.
    private mutating func lowerDynamicConv(_ node: Node, _ a: Conv2DAttributes, _ original: Graph) throws {
        let weightName = node.inputs[1]
        guard let w = original.initializers[weightName], let q = original.quantization[weightName], w.rank == 4 else {
            throw ModelPressError.internalError("dynamic form: Conv '\(node.name)' has no 4-D annotated weight")
        }
        let shape = graph.shapes[node.output]
        let doc = node.layer == node.name ? "" : "layer: \(node.layer)"
        let channels = q.scales.count, inner = w.count / max(1, w.shape[0])
        let ints = w.storage.enumerated().map { i, x in q.quantize(x, channel: channels == 1 ? 0 : i / max(1, inner)) }
        let weights = fresh(weightName + "/q")
        appendInitializer(ONNXTensor.quantized(weights, ints, shape: w.shape, type: .int8))
        let weightScale = constant(weightName + "/scale", try Tensor(shape: channels == 1 ? [] : [channels, 1, 1], storage: q.scales))

        let base = node.name
        let (xq, xs, xzp) = appendDynamicQuantize(node.inputs[0], base: base)
        let accumulator = fresh(base + "/acc")
        add(
            "ConvInteger", name: accumulator, inputs: [xq, weights, xzp], output: accumulator,
            attributes: a.onnxAttributes,
            shape: nil)
        var bias: String?
        if let biasName = node.bias {
            guard let b = original.initializers[biasName], original.quantization[biasName] == nil else {
                throw ModelPressError.internalError("dynamic form: Conv '\(node.name)' has a bias that is not a float initializer")
            }
            bias = constant(biasName + "/chw", try Tensor(shape: [b.count, 1, 1], storage: b.storage))
        }
        appendRescale(node, accumulator: accumulator, inputScale: xs, weightScale: weightScale, bias: bias, shape: shape, doc: doc)
    }

    /// Appends DynamicQuantizeLinear of `input`: the names of its uint8 output, scale and zero point.
    private mutating func appendDynamicQuantize(_ input: String, base: String) -> (String, String, String) {
        let xq = fresh(base + "/xq"), xs = fresh(base + "/xs"), xzp = fresh(base + "/xz")
        var quantize = Onnx_NodeProto()
        quantize.opType = "DynamicQuantizeLinear"
        quantize.name = fresh(base + "/dql")
        quantize.input = [input]
        quantize.output = [xq, xs, xzp]
        append(quantize)
        return (xq, xs, xzp)
    }

    /// Appends `float(accumulator) · (inputScale · weightScale) [+ bias]`, writing `node.output`.
    private mutating func appendRescale(
        _ node: Node, accumulator: String, inputScale: String, weightScale: String,
        bias: String?, shape: [Int]?, doc: String
    ) {
        let base = node.name
        let accumulatorFloat = fresh(base + "/accf")
        add("Cast", name: accumulatorFloat, inputs: [accumulator], output: accumulatorFloat, attributes: [.int("to", Int(ONNXDataType.float))], shape: nil)
        let scale = fresh(base + "/s")
        add("Mul", name: scale, inputs: [inputScale, weightScale], output: scale, shape: nil)
        if let bias {
            let product = fresh(base + "/m")
            add("Mul", name: product, inputs: [accumulatorFloat, scale], output: product, shape: nil)
            add("Add", name: node.name, inputs: [product, bias], output: node.output, shape: shape, docString: doc)
        } else {
            add("Mul", name: node.name, inputs: [accumulatorFloat, scale], output: node.output, shape: shape, docString: doc)
        }
    }
}

extension ONNXGraphBuilder {
    /// Marks the annotated W and R of the recurrent `nodes` to be re-laid out by their lowering
    /// (ONNX's gate order) and written as integers behind a DequantizeLinear there, in every
    /// quantized form; returns their names, which get no DequantizeLinear of their own.
    mutating func relayRecurrentWeights(of nodes: [Node], weights: [String: Tensor], quantization: [String: TensorQuantization]) -> Set<String> {
        var relaid = Set<String>()
        for node in nodes {
            guard case .recurrent = node.op else { continue }
            for name in node.inputs[1...2] {
                guard let tensor = weights[name], let q = quantization[name] else { continue }
                relaidWeights[name] = (tensor, q)
                relaid.insert(name)
            }
        }
        return relaid
    }
}
