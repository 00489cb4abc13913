import ONNXProto
import TensorCore

extension Linear: ONNXLowering {
    /// Gemm for N×K input (transB = 0), else MatMul followed by Add for the bias.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        let shape = b.graph.shapes[node.output]
        if b.shape(of: node.inputs[0])?.count == 2 {
            b.single(node, "Gemm")
        } else if let bias = node.bias {
            let product = b.fresh(node.name + "/matmul")
            b.add("MatMul", name: product, inputs: [node.inputs[0], node.inputs[1]], output: product, shape: shape)
            b.add("Add", name: node.name, inputs: [product, bias], output: node.output, shape: shape, docString: b.layerDoc(node))
        } else {
            b.single(node, "MatMul")
        }
    }
    var lowersOnIntegers: Bool { false }
}

// Import: Gemm, MatMul (MatMul + Add of a bias is fused in ONNXImporter+Patterns)
extension ONNXImportContext {
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
        if node.input.count == 2, constants[node.input[0]] == nil, constants[node.input[1]] == nil {
            return try emit(node, i, .matMul(MatMul()), [node.input[0], node.input[1]])
        }
        let w = try constantInput(node, 1, what: "the right-hand matrix (weights)")
        guard w.shape.count == 2 else { throw fail(node, "multiplies by a \(w.shape.count)-D tensor; only 2-D weights are supported") }
        try emit(node, i, .linear, [node.input[0], node.input[1]])
    }
}
