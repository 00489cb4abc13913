import ONNXProto
import TensorCore

/// ONNX node → IR node: operators with weights (Conv, Gemm, MatMul, BatchNormalization) and pooling.
extension ONNXImportContext {
    /// 2-D Conv with constant weights (and bias); `auto_pad` resolved to explicit pads.
    mutating func importConv(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let w = try constantInput(node, 1, what: "weights")
        guard x.count == 4, w.shape.count == 4 else { throw fail(node, "is not a 2-D convolution (input \(x), weights \(w.shape))") }
        let kernel = node.ints("kernel_shape") ?? Array(w.shape[2...])
        let strides = node.ints("strides") ?? [1, 1]
        let dilations = node.ints("dilations") ?? [1, 1]
        guard kernel.count == 2, strides.count == 2, dilations.count == 2 else { throw fail(node, "has attributes for other than 2 spatial axes") }
        try checkWindow(node, kernel + strides + dilations)
        let pads = try resolvePads(node, input: Array(x[2...]), kernel: kernel, strides: strides, dilations: dilations)
        let group = node.int("group", default: 1)
        guard group >= 1, group <= x[1] else { throw fail(node, "has group \(group) for \(x[1]) input channels") }
        let attributes = Conv2DAttributes(kernel: kernel, strides: strides, dilations: dilations, pads: pads, group: group)
        var inputs = [node.input[0], node.input[1]]
        if node.input.count > 2, !node.input[2].isEmpty {
            _ = try constantInput(node, 2, what: "bias")
            inputs.append(node.input[2])
        }
        try emit(node, i, .conv2D(attributes), inputs)
    }

    /// Explicit `[top, left, bottom, right]` pads from `pads` or `auto_pad`.
    func resolvePads(_ node: Onnx_NodeProto, input: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws -> [Int] {
        let autoPad = node.string("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET":
            let pads = node.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= Self.maxExtent }) else { throw fail(node, "has invalid pads \(pads)") }
            return pads
        case "VALID":
            return [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            var begin = [0, 0], end = [0, 0]
            for a in 0..<2 {
                guard strides[a] >= 1 else { throw fail(node, "has invalid strides \(strides)") }
                let out = (input[a] + strides[a] - 1) / strides[a]
                let total = max(0, (out - 1) * strides[a] + (kernel[a] - 1) * dilations[a] + 1 - input[a])
                let small = total / 2
                (begin[a], end[a]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
            }
            return begin + end
        default:
            throw fail(node, "has unknown auto_pad '\(autoPad)'")
        }
    }

    /// Gemm `alpha·A·op(B) + beta·C` with constant B and C, as a Linear (B transposed to K×M).
    mutating func importGemm(_ node: Onnx_NodeProto, _ i: Int) throws {
        guard node.int("transA", default: 0) == 0 else { throw fail(node, "has transA=1; only activations × weights is supported") }
        let a = try shape(node.input[0], node)
        var b = try constantInput(node, 1, what: "B (weights)")
        guard a.count == 2, b.shape.count == 2 else { throw fail(node, "expects a 2-D input and 2-D weights") }
        var weightsName = node.input[1]
        let alpha = node.float("alpha", default: 1), beta = node.float("beta", default: 1)
        if node.int("transB", default: 0) != 0 || alpha != 1 {
            if node.int("transB", default: 0) != 0 { b.tensor = try transpose2D(b.tensor) }
            if alpha != 1 { b.tensor.storage = b.tensor.storage.map { $0 * alpha } }
            weightsName = uniqueConstantName(weightsName + "_gemm")
            constants[weightsName] = b
        }
        var inputs = [node.input[0], weightsName]
        if node.input.count > 2, !node.input[2].isEmpty {
            let m = b.shape[1]
            var c = try constantInput(node, 2, what: "C (bias)")
            guard c.tensor.count == m || c.tensor.count == 1, c.shape.count <= 1 || (c.shape.count == 2 && c.shape[0] == 1) else {
                throw fail(node, "bias C \(c.shape) is not a per-unit vector of \(m)")
            }
            if c.shape != [m] || beta != 1 {
                let values = c.tensor.count == 1 ? [Float](repeating: c.tensor.storage[0], count: m) : c.tensor.storage
                c.tensor = try Tensor(shape: [m], storage: values.map { $0 * beta })
                let name = uniqueConstantName(node.input[2] + "_gemm")
                constants[name] = c
                inputs.append(name)
            } else {
                inputs.append(node.input[2])
            }
        }
        try emit(node, i, .linear, inputs)
    }

    /// MatMul of activations by a constant K×M matrix, as a Linear without bias.
    mutating func importMatMul(_ node: Onnx_NodeProto, _ i: Int) throws {
        let w = try constantInput(node, 1, what: "the right-hand matrix (weights)")
        guard w.shape.count == 2 else { throw fail(node, "multiplies by a \(w.shape.count)-D tensor; only 2-D weights are supported") }
        try emit(node, i, .linear, [node.input[0], node.input[1]])
    }

    /// Inference BatchNormalization with constant parameters.
    mutating func importBatchNorm(_ node: Onnx_NodeProto, _ i: Int) throws {
        guard node.int("training_mode", default: 0) == 0 else { throw fail(node, "is in training mode") }
        for (k, output) in node.output.enumerated() where k > 0 && (readers[output] != nil || outputNames.contains(output)) {
            throw fail(node, "its running-statistics output '\(output)' is used; only inference BatchNormalization is supported")
        }
        guard node.input.count == 5 else { throw fail(node, "needs 5 inputs") }
        for k in 1..<5 { _ = try constantInput(node, k, what: ["", "scale", "bias", "mean", "variance"][k]) }
        try emit(node, i, .batchNormalization(epsilon: node.float("epsilon", default: 1e-5)), Array(node.input))
    }

    /// MaxPool / AveragePool in 2-D; AveragePool with `count_include_pad=1` and padding becomes Pad + AveragePool.
    mutating func importPool(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        guard x.count == 4, let kernel = node.ints("kernel_shape"), kernel.count == 2 else { throw fail(node, "is not a 2-D pooling") }
        if node.output.count > 1, readers[node.output[1]] != nil || outputNames.contains(node.output[1]) {
            throw fail(node, "its Indices output is used, which ModelPress does not compute")
        }
        let strides = node.ints("strides") ?? [1, 1]
        guard strides.count == 2 else { throw fail(node, "has strides for other than 2 spatial axes") }
        try checkWindow(node, kernel + strides)
        guard (node.ints("dilations") ?? [1, 1]) == [1, 1] else { throw fail(node, "has dilations; only undilated pooling is supported") }
        var pads = try resolvePads(node, input: Array(x[2...]), kernel: kernel, strides: strides, dilations: [1, 1])
        if node.int("ceil_mode", default: 0) != 0 {
            for a in 0..<2 {
                let padded = x[2 + a] + pads[a] + pads[a + 2] - kernel[a]
                guard strides[a] >= 1, padded >= 0, padded % strides[a] == 0 else {
                    throw fail(node, "uses ceil_mode=1 where it changes the output size; re-export with ceil_mode=0")
                }
            }
        }
        var input = node.input[0]
        if node.opType == "AveragePool", node.int("count_include_pad", default: 0) != 0, pads.contains(where: { $0 != 0 }) {
            let padded = uniqueConstantName(nodeName(node, i) + "/pad")
            try graph.append(Node(name: padded, op: .pad([0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]]), inputs: [input], output: padded))
            input = padded
            pads = [0, 0, 0, 0]
        }
        let attributes = Pool2DAttributes(kernel: kernel, strides: strides, pads: pads)
        try emit(node, i, node.opType == "MaxPool" ? .maxPool2D(attributes) : .averagePool2D(attributes), [input])
    }

    /// The largest kernel, stride, dilation or pad ModelPress accepts (keeps shape arithmetic in range).
    static let maxExtent = 1 << 20

    /// Fails unless every window attribute is in `1...maxExtent`.
    func checkWindow(_ node: Onnx_NodeProto, _ values: [Int]) throws {
        guard values.allSatisfy({ $0 >= 1 && $0 <= Self.maxExtent }) else {
            throw fail(node, "has kernel/stride/dilation values \(values) outside 1…\(Self.maxExtent)")
        }
    }

    /// A name used by no value of either graph.
    func uniqueConstantName(_ base: String) -> String {
        var name = base, k = 1
        while graph.shapes[name] != nil || constants[name] != nil || producer[name] != nil { name = "\(base)_\(k)"; k += 1 }
        return name
    }

    /// The transpose of a 2-D tensor.
    func transpose2D(_ t: Tensor) throws -> Tensor {
        let (r, c) = (t.shape[0], t.shape[1])
        var out = try Tensor(shape: [c, r])
        for a in 0..<r { for b in 0..<c { out.storage[b * r + a] = t.storage[a * c + b] } }
        return out
    }
}
