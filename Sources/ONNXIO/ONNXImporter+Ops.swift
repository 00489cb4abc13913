import ONNXProto
import TensorCore

/// ONNX node → IR node(s): the dispatch and the elementwise / activation operators.
extension ONNXImportContext {
    /// The IR name of ONNX node `index` (its name, or `<OpType>_<index>` when it has none).
    func nodeName(_ node: Onnx_NodeProto, _ index: Int) -> String {
        node.name.isEmpty ? "\(node.opType)_\(index)" : node.name
    }

    /// The source layer recorded by the exporter in `doc_string` (`layer: NAME`), if any.
    func layer(_ node: Onnx_NodeProto) -> String? {
        node.docString.hasPrefix("layer: ") ? String(node.docString.dropFirst(7)) : nil
    }

    /// Appends the IR node for ONNX node `index` with output `output` (default: its first);
    /// empty names among `inputs` (absent optional ONNX inputs) are left out.
    mutating func emit(_ node: Onnx_NodeProto, _ index: Int, _ op: Op, _ inputs: [String], output: String? = nil) throws {
        guard let out = output ?? node.output.first else { throw fail(node, "has no output") }
        try emit(node, index, op, inputs, outputs: [out])
    }

    /// Appends the IR node for ONNX node `index` writing `outputs`.
    mutating func emit(_ node: Onnx_NodeProto, _ index: Int, _ op: Op, _ inputs: [String], outputs: [String]) throws {
        let inputs = inputs.filter { !$0.isEmpty }
        try requireDefined(inputs, node)
        try materialize(inputs)
        for out in outputs {
            guard !out.isEmpty else { throw fail(node, "has no output") }
            guard graph.shapes[out] == nil, constants[out] == nil else { throw fail(node, "writes '\(out)', which is already defined") }
        }
        try graph.append(Node(name: nodeName(node, index), op: op, inputs: inputs, outputs: outputs, layer: layer(node)))
    }

    /// Converts one ONNX node (not part of a fused pattern).
    mutating func convert(_ node: Onnx_NodeProto, index i: Int) throws {
        if node.domain == ONNXGraphBuilder.contribDomain && node.opType == "MatMulNBits" { return try importMatMulNBits(node, i) }
        guard node.domain.isEmpty || node.domain == "ai.onnx" else { throw unsupported(node) }
        if try fold(node) { return }
        // Dynamic quantization has no IR form: refuse it with its own hint before the output check.
        if node.opType == "DynamicQuantizeLinear" { throw unsupported(node) }
        guard node.output.count == 1 || ["BatchNormalization", "Dropout", "MaxPool", "Split", "LayerNormalization", "LSTM", "GRU", "RNN"].contains(node.opType) else {
            throw fail(node, "has \(node.output.count) outputs; ModelPress imports single-output nodes")
        }
        guard !(node.input.first ?? "").isEmpty else { throw fail(node, "has no input") }
        guard !(node.output.first ?? "").isEmpty else { throw fail(node, "has no output") }
        if try importRecurrentLayout(node, i) { return }
        let x = node.input.first ?? ""
        if Self.liftedTo2D.contains(node.opType), graph.shapes[x]?.count == 3 { return try importLifted1D(node, i) }
        switch node.opType {
        case "Identity", "Dropout":
            if node.output.count > 1, readers[node.output[1]] != nil || outputNames.contains(node.output[1]) {
                throw fail(node, "its mask output is used; only inference Dropout is supported")
            }
            try emit(node, i, .identity, [x])
        case "Relu": try emit(node, i, .activation(.relu), [x])
        case "Sigmoid": try emit(node, i, .activation(.sigmoid), [x])
        case "Tanh": try emit(node, i, .activation(.tanh), [x])
        case "Softplus": try emit(node, i, .activation(.softplus), [x])
        case "Softsign": try emit(node, i, .activation(.softsign), [x])
        case "Exp": try emit(node, i, .activation(.exponential), [x])
        case "Neg": try emit(node, i, .activation(.negate), [x])
        case "Sqrt": try emit(node, i, .activation(.squareRoot), [x])
        case "Reciprocal": try emit(node, i, .activation(.reciprocal), [x])
        case "HardSwish": try emit(node, i, .activation(.hardSwish), [x])
        case "Selu":
            guard node.float("alpha", default: 1.67326319217681884765625) == 1.67326319217681884765625,
                node.float("gamma", default: 1.05070102214813232421875) == 1.05070102214813232421875
            else {
                throw fail(node, "has non-standard alpha/gamma; only the standard SELU constants are supported")
            }
            try emit(node, i, .activation(.selu), [x])
        case "Elu": try emit(node, i, .activation(.elu(alpha: node.float("alpha", default: 1))), [x])
        case "LeakyRelu": try emit(node, i, .activation(.leakyRelu(alpha: node.float("alpha", default: 0.01))), [x])
        case "HardSigmoid":
            try emit(node, i, .activation(.hardSigmoid(alpha: node.float("alpha", default: 0.2), beta: node.float("beta", default: 0.5))), [x])
        case "Gelu":
            let approximate = node.string("approximate", default: "none")
            guard approximate == "none" || approximate == "tanh" else { throw fail(node, "has unknown approximate='\(approximate)'") }
            try emit(node, i, .activation(.gelu(approximate: approximate == "tanh")), [x])
        case "Clip":
            let lo: Float, hi: Float
            if opset < 11 {
                (lo, hi) = (node.float("min", default: -.infinity), node.float("max", default: .infinity))
            } else {
                lo = try scalar(node, 1, what: "min") ?? -.infinity
                hi = try scalar(node, 2, what: "max") ?? .infinity
            }
            try emit(node, i, .activation(.clip(min: lo, max: hi)), [x])
        case "PRelu": try importPRelu(node, i)
        case "Softmax": try importSoftmax(node, i)
        case "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean": try importElementwise(node, i)
        case "Conv": try importConv(node, i)
        case "ConvTranspose": try importConvTranspose(node, i)
        case "Gemm": try importGemm(node, i)
        case "MatMul": try importMatMul(node, i)
        case "BatchNormalization": try importBatchNorm(node, i)
        case "MaxPool", "AveragePool": try importPool(node, i)
        case "GlobalAveragePool": try emit(node, i, .globalAveragePool, [x])
        case "GlobalMaxPool": try emit(node, i, .globalMaxPool, [x])
        case "Flatten": try importFlatten(node, i)
        case "Reshape", "Squeeze", "Unsqueeze": try importReshape(node, i)
        case "Transpose": try importTranspose(node, i)
        case "Concat": try importConcat(node, i)
        case "Pad": try importPad(node, i)
        case "Slice": try importSlice(node, i)
        case "Resize", "Upsample": try importResize(node, i)
        case "Split": try importSplit(node, i)
        case "LayerNormalization": try importLayerNormalization(node, i)
        case "ReduceMean": try importReduceMean(node, i)
        case "Tile": try importTile(node, i)
        case "Gather": try importGather(node, i)
        case "Cast": try importCast(node, i)
        case "LSTM", "GRU", "RNN": try importRecurrent(node, i)
        case "Expand": try importExpand(node, i)
        default: throw unsupported(node)
        }
    }

    /// The error for an operator ModelPress does not import.
    func unsupported(_ node: Onnx_NodeProto) -> ModelPressError {
        let op = node.domain.isEmpty ? node.opType : "\(node.domain).\(node.opType)"
        if node.domain.isEmpty, Self.foldableOps.contains(node.opType), let input = node.input.first(where: { !$0.isEmpty && known($0) == nil }) {
            return .unsupportedLayer(
                file: file, layer: node.name, className: "ONNX \(op)",
                reason: "is not supported on run-time values (here '\(input)', computed from the data); ModelPress evaluates it only where its inputs are "
                    + "constants or static sizes (constant folding).\nHINT: export the model with static shapes, or simplify it (e.g. onnxsim); "
                    + "if it computes the model's output, the operator is not supported yet")
        }
        let hint =
            ["DynamicQuantizeLinear", "MatMulInteger", "ConvInteger"].contains(node.opType)
            ? "this is a dynamically quantized model (activations quantized at run time, e.g. `modelpress quantize --dynamic`); run it in onnxruntime. ModelPress does not read it back: evaluate or re-quantize the float model"
            : ["QuantizeLinear", "DequantizeLinear"].contains(node.opType) || node.opType.hasPrefix("QLinear")
                ? "ModelPress reads quantized models in QDQ form (QuantizeLinear→DequantizeLinear pairs and DequantizeLinear of constant weights, with constant scales) and the QOperator operators onnxruntime writes (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, …; docs/formats.md); this quantized operator is outside that, so import the float model and quantize it with `modelpress quantize`"
                : "ModelPress imports float CNN/MLP operators (Conv, Gemm, MatMul, pooling, activations, elementwise, static reshapes); simplify the model (e.g. onnxsim) or replace the operator"
        return .unsupportedLayer(file: file, layer: node.name, className: "ONNX \(op)", reason: "is not supported by the ONNX importer.\nHINT: \(hint)")
    }

    /// `Constant`: records the value (no IR node).
    mutating func importConstant(_ node: Onnx_NodeProto) throws {
        guard let out = node.output.first else { throw fail(node, "has no output") }
        let location = "node '\(node.name)' (Constant)"
        if let a = node.attribute("value"), a.hasT {
            constants[out] = try constant(a.t, location: location)
        } else if let a = node.attribute("value_float") {
            constants[out] = ONNXConstant(tensor: Tensor(scalar: a.f), integers: nil)
        } else if let a = node.attribute("value_floats") {
            constants[out] = ONNXConstant(tensor: try Tensor(shape: [a.floats.count], storage: a.floats), integers: nil)
        } else if let a = node.attribute("value_int") {
            constants[out] = ONNXConstant(tensor: Tensor(scalar: Float(a.i)), integers: [a.i])
        } else if let a = node.attribute("value_ints") {
            constants[out] = ONNXConstant(tensor: try Tensor(shape: [a.ints.count], storage: a.ints.map(Float.init)), integers: a.ints)
        } else {
            throw fail(node, "has no value ModelPress reads (value, value_float(s), value_int(s))")
        }
    }

}
