import ONNXProto
import TensorCore

/// The QOperator form of a quantized graph: values flow as integers between integer ops.
/// - A Conv whose input, int8 weights, int32 bias and output are annotated becomes
///   `QLinearConv` (per-channel weight scales, int32 bias); such a Dense on N×K input becomes
///   `Reshape → QLinearConv (1×1, weights M×K×1×1) → Reshape`, which keeps the int32 bias exact
///   (QLinearMatMul has no bias input) with standard-domain ops only.
/// - A product of two int8 activations with an int8 output (`--quantize-ops MatMul`) becomes
///   `QLinearMatMul`.
/// - MaxPool, Flatten, Reshape, Transpose and Identity whose output shares the input's
///   parameters run on the integers.
/// - Every other op reads `DequantizeLinear` outputs and, when its output is annotated, is
///   followed by `QuantizeLinear`; annotated graph outputs end in `DequantizeLinear`.
/// `ONNXImporter` expands these ops back into the QDQ form before folding it.
extension ONNXGraphBuilder {
    /// Lowers `original` (the builder's graph minus its annotated initializers) in QOperator form.
    mutating func lowerQOperator(original: Graph) throws {
        if let (name, q) = original.quantization.sorted(by: { $0.key < $1.key }).first(where: { $0.value.bits == 16 }) {
            throw ModelPressError.invalidArgument("'\(name)' is quantized to \(q.type.rawValue); QLinearConv takes 8-bit operands only.\nHINT: write 16-bit models with --format qdq (opset 21).")
        }
        var state = QOperatorState()
        for name in relayRecurrentWeights(of: original.nodes, weights: original.initializers, quantization: original.quantization) { state.float[name] = name }
        for input in original.inputs {
            state.float[input.name] = input.name
            if let q = original.quantization[input.name] { state.integer[input.name] = quantize(input.name, from: input.name, q, &state) }
        }
        for node in original.nodes {
            if try lowerIntegerCompute(node, original, &state) || lowerQLinearMatMul(node, original, &state) { continue }
            if let x = node.inputs.first, let xq = state.integer[x], isMovingOp(node.op),
                let q = original.quantization[node.output], q == original.quantization[x]
            {
                var moved = node
                moved.inputs[0] = xq
                moved.output = fresh(node.output + "/q")
                alias(moved.output, of: node.output)
                try lower(moved)
                state.integer[node.output] = moved.output
                continue
            }
            var floatNode = node
            floatNode.inputs = try node.inputs.map { try floatName($0, original, &state) }
            if let q = original.quantization[node.output] {
                floatNode.output = fresh(node.output + "/float")
                alias(floatNode.output, of: node.output)
                try lower(floatNode)
                state.integer[node.output] = quantize(node.output, from: floatNode.output, q, &state)
            } else {
                try lower(floatNode)
                state.float[node.output] = node.output
            }
        }
        for output in original.outputs where state.float[output.name] != output.name {
            guard let integer = state.integer[output.name], let q = original.quantization[output.name] else {
                throw ModelPressError.internalError("graph output '\(output.name)' was not lowered")
            }
            let (scale, zero) = parameters(output.name, q, &state)
            add("DequantizeLinear", name: fresh(output.name + "/dq"), inputs: [integer, scale, zero], output: output.name, shape: nil)
        }
    }

    /// QLinearConv for an eligible Conv / Dense; false when the node is not eligible.
    private mutating func lowerIntegerCompute(_ node: Node, _ g: Graph, _ state: inout QOperatorState) throws -> Bool {
        guard node.hasIntegerKernel else { return false }
        var isConv = false
        if case .conv2D = node.op { isConv = true }
        guard let xInteger = state.integer[node.inputs[0]], let xq = g.quantization[node.inputs[0]], xq.axis == nil,
            let yq = g.quantization[node.output], yq.axis == nil, yq.type != .int32,
            let w = g.initializers[node.inputs[1]], let wq = g.quantization[node.inputs[1]], wq.type == .int8,
            !g.outputs.contains(where: { $0.name == node.output })
        else { return false }
        var biasName: String?
        if let bias = node.bias {
            guard let b = g.initializers[bias], let bq = g.quantization[bias], bq.type == .int32,
                bq.zeroPoints.allSatisfy({ $0 == 0 })
            else { return false }
            for (c, s) in bq.scales.enumerated() {
                let expected = xq.scales[0] * wq.scales[wq.scales.count == 1 ? 0 : c]
                guard abs(s - expected) <= 1e-6 * expected else { return false }
            }
            let values = b.storage.enumerated().map { c, v in bq.quantize(v, channel: bq.scales.count == 1 ? 0 : c) }
            let name = fresh(bias + "/q")
            appendInitializer(ONNXTensor.quantized(name, values, shape: [b.count], type: .int32))
            biasName = name
        }
        let xShape = g.shapes[node.inputs[0]] ?? []
        if !isConv && xShape.count != 2 { return false }
        // Weights as O×I×kh×kw integers with per-output-channel scales (axis 0).
        let channels = wq.scales.count
        var weightShape = w.shape
        var weightValues: [Int64]
        if isConv {
            let inner = w.count / max(1, w.shape[0])
            weightValues = w.storage.enumerated().map { i, v in wq.quantize(v, channel: channels == 1 ? 0 : i / max(1, inner)) }
        } else {
            let (k, m) = (w.shape[0], w.shape[1])
            weightShape = [m, k, 1, 1]
            weightValues = [Int64](repeating: 0, count: k * m)
            for row in 0..<k {
                for col in 0..<m { weightValues[col * k + row] = wq.quantize(w.storage[row * m + col], channel: channels == 1 ? 0 : col) }
            }
        }
        let weightName = fresh(node.inputs[1] + "/q")
        appendInitializer(ONNXTensor.quantized(weightName, weightValues, shape: weightShape, type: .int8))
        let weightScale = constant(node.inputs[1] + "/scale", try Tensor(shape: [channels], storage: wq.scales))
        guard wq.zeroPoints.allSatisfy({ $0 == 0 }) else {
            throw ModelPressError.internalError("weights of '\(node.name)' have a nonzero zero point; weights are symmetric")
        }
        let weightZero = sharedZeroPoint(0, type: .int8, count: channels)
        let (xScale, xZero) = parameters(node.inputs[0], xq, &state)
        let (yScale, yZero) = parameters(node.output, yq, &state)
        let attributes: [Onnx_AttributeProto]
        var convInput = xInteger
        if case .conv2D(let a) = node.op {
            attributes = a.onnxAttributes
        } else {
            attributes = [.ints("kernel_shape", [1, 1])]
            convInput = fresh(node.name + "/nchw")
            add("Reshape", name: convInput, inputs: [xInteger, int64s(node.name + "/nchw_shape", [-1, w.shape[0], 1, 1])], output: convInput, shape: nil)
        }
        var output = fresh(node.output + "/q")
        add(
            "QLinearConv", name: isConv ? node.name : fresh(node.name + "/QLinearConv"),
            inputs: [convInput, xScale, xZero, weightName, weightScale, weightZero, yScale, yZero] + (biasName.map { [$0] } ?? []),
            output: output, attributes: attributes, shape: nil, docString: node.layer == node.name ? "" : "layer: \(node.layer)")
        if !isConv {
            let flat = fresh(node.output + "/q2d")
            add("Reshape", name: node.name, inputs: [output, int64s(node.name + "/shape", [-1, w.shape[1]])], output: flat, shape: nil)
            output = flat
        }
        state.integer[node.output] = output
        return true
    }

    /// The float name of `value` for a float op: itself, or a DequantizeLinear of its integers
    /// (once per value); annotated initializers get their DequantizeLinear on first use.
    private mutating func floatName(_ value: String, _ g: Graph, _ state: inout QOperatorState) throws -> String {
        if value.isEmpty { return value }
        if let f = state.float[value] { return f }
        if let t = g.initializers[value], let q = g.quantization[value] {
            try dequantizeConstant(value, t, q)
            state.float[value] = value
            return value
        }
        guard let integer = state.integer[value], let q = g.quantization[value] else { return value }
        let (scale, zero) = parameters(value, q, &state)
        let name = fresh(value + "/dq")
        alias(name, of: value)
        add("DequantizeLinear", name: name, inputs: [integer, scale, zero], output: name, shape: nil)
        state.float[value] = name
        return name
    }

    /// QLinearMatMul for a product of two activations held as 8-bit integers (per tensor) whose
    /// output is annotated too; false when the node is not one.
    private mutating func lowerQLinearMatMul(_ node: Node, _ g: Graph, _ state: inout QOperatorState) -> Bool {
        guard case .matMul = node.op, let a = state.integer[node.inputs[0]], let b = state.integer[node.inputs[1]],
            let aq = g.quantization[node.inputs[0]], let bq = g.quantization[node.inputs[1]], let yq = g.quantization[node.output],
            [aq, bq, yq].allSatisfy({ $0.axis == nil && $0.bits == 8 }), !g.outputs.contains(where: { $0.name == node.output })
        else { return false }
        let (aScale, aZero) = parameters(node.inputs[0], aq, &state)
        let (bScale, bZero) = parameters(node.inputs[1], bq, &state)
        let (yScale, yZero) = parameters(node.output, yq, &state)
        let output = fresh(node.output + "/q")
        alias(output, of: node.output)
        add(
            "QLinearMatMul", name: node.name, inputs: [a, aScale, aZero, b, bScale, bZero, yScale, yZero], output: output, shape: nil,
            docString: node.layer == node.name ? "" : "layer: \(node.layer)")
        state.integer[node.output] = output
        return true
    }

    /// `QuantizeLinear(floatValue)` with `value`'s parameters; returns the integer name.
    private mutating func quantize(_ value: String, from floatValue: String, _ q: TensorQuantization, _ state: inout QOperatorState) -> String {
        let (scale, zero) = parameters(value, q, &state)
        let name = fresh(value + "/q")
        add("QuantizeLinear", name: name, inputs: [floatValue, scale, zero], output: name, shape: nil)
        return name
    }

    /// The scalar scale and zero point initializers of activation `value` (made once).
    private mutating func parameters(_ value: String, _ q: TensorQuantization, _ state: inout QOperatorState) -> (String, String) {
        if let p = state.parameters[value] { return p }
        let scale = scalar(value + "/scale", q.scales[0])
        let zero = sharedZeroPoint(q.zeroPoints[0], type: q.type)
        state.parameters[value] = (scale, zero)
        return (scale, zero)
    }

    /// Ops that run on integers unchanged in the QOperator form: transparent to quantization,
    /// and their ONNX op accepts uint8/int8.
    private func isMovingOp(_ op: Op) -> Bool {
        op.definition.quantizationRole == .transparent && op.onnx.lowersOnIntegers
    }
}

/// Names made while lowering to QOperator: each activation's integer and float tensors and
/// its shared scale / zero point initializers.
struct QOperatorState {
    var integer: [String: String] = [:]
    var float: [String: String] = [:]
    var parameters: [String: (String, String)] = [:]
}
