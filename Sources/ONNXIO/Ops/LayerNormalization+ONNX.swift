import ONNXProto
import TensorCore

extension LayerNormalization: ONNXLowering {
    /// `LayerNormalization` from opset 17; below it the same computation from standard ops
    /// (`lowerDecomposed_13`), which the importer recognises.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        if b.opset >= 17 {
            b.single(node, "LayerNormalization", [.int("axis", axis), .float("epsilon", epsilon)])
        } else {
            try lowerDecomposed_13(node, &b)
        }
    }
    var lowersOnIntegers: Bool { false }

    /// `d = x − ReduceMean(x); y = d / Sqrt(ReduceMean(d·d) + ε) · scale (+ offset)`, with
    /// `ReduceMean` over the normalized axes (`axes` attribute: opsets 13–17).
    func lowerDecomposed_13(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        let x = node.inputs[0]
        guard let shape = b.shape(of: x), axis < shape.count else {
            throw ModelPressError.internalError("LayerNormalization '\(node.name)': the shape of '\(x)' is unknown when lowering")
        }
        var reduced = shape
        for a in axis..<shape.count { reduced[a] = 1 }
        let axes: [Onnx_AttributeProto] = [.ints("axes", Array(axis..<shape.count)), .int("keepdims", 1)]
        func step(_ role: String, _ opType: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], shape s: [Int]) -> String {
            let name = b.fresh(node.name + "/" + role)
            b.add(opType, name: name, inputs: inputs, output: name, attributes: attributes, shape: s)
            return name
        }
        let mean = step("mean", "ReduceMean", [x], axes, shape: reduced)
        let centred = step("centred", "Sub", [x, mean], shape: shape)
        let squared = step("squared", "Mul", [centred, centred], shape: shape)
        let variance = step("variance", "ReduceMean", [squared], axes, shape: reduced)
        let epsilonName = b.scalar(node.name + "/epsilon", epsilon)
        let shifted = step("shifted", "Add", [variance, epsilonName], shape: reduced)
        let deviation = step("deviation", "Sqrt", [shifted], shape: reduced)
        let normalized = step("normalized", "Div", [centred, deviation], shape: shape)
        if node.inputs.count > 2 {
            let scaled = step("scaled", "Mul", [normalized, node.inputs[1]], shape: shape)
            b.single(node, "Add", inputs: [scaled, node.inputs[2]])
        } else {
            b.single(node, "Mul", inputs: [normalized, node.inputs[1]])
        }
    }
}

// Import: LayerNormalization (opset 17) directly; the decomposed form (what
// `lowerDecomposed_13` writes, and PyTorch's / tf2onnx's Div and Reciprocal variants) as a
// pattern found by `findPatterns`.
extension ONNXImportContext {
    mutating func importLayerNormalization(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        var axis = node.int("axis", default: -1)
        if axis < 0 { axis += x.count }
        guard axis >= 1, axis < x.count else { throw fail(node, "normalizes the batch axis or an axis out of range") }
        guard node.output.count == 1 || node.output.dropFirst().allSatisfy({ readers[$0] == nil && !outputNames.contains($0) }) else {
            throw fail(node, "its Mean / InvStdDev outputs are used; only the normalized output is supported")
        }
        _ = try constantInput(node, 1, what: "scale")
        if node.input.count > 2, !node.input[2].isEmpty { _ = try constantInput(node, 2, what: "bias") }
        try emit(
            node, i, .layerNormalization(LayerNormalization(axis: axis, epsilon: node.float("epsilon", default: 1e-5))),
            Array(node.input.prefix(3)))
    }
}

extension ONNXImportContext {
    /// `[Add(] Mul(Div(d, Sqrt(Add(ReduceMean(d²), ε))), γ) [, β)]` with `d = Sub(x, ReduceMean(x))`,
    /// both means over the same trailing axes (keepdims), `d²` as `Mul(d, d)` or `Pow(d, 2)`,
    /// and the division also as `Mul(d, Reciprocal(…))` → LayerNormalization. A negative first
    /// axis is resolved against the input's rank by `resolvedFused`.
    func matchLayerNormalization(_ last: Onnx_NodeProto) -> (Op, [String], [Int])? {
        var chain: [Int] = []
        var offset: [String] = []
        var scaling = last
        if last.opType == "Add" {
            guard let (scaled, beta) = operands(last, where: { s, b in constants[b] != nil && constants[s] == nil }),
                let (p, mul) = inner(scaled, "Mul")
            else { return nil }
            (scaling, offset) = (mul, [beta])
            chain.append(p)
        }
        guard scaling.opType == "Mul",
            let (normalized, gamma) = operands(scaling, where: { n, g in constants[g] != nil && constants[n] == nil }),
            let (centred, deviation, divisionNodes) = division(normalized)
        else { return nil }
        chain += divisionNodes
        guard let (pq, sqrt) = inner(deviation, "Sqrt"), let (pe, shifted) = inner(sqrt.input.first ?? "", "Add"),
            let (variance, epsilonName) = operands(shifted, where: { _, e in scalarConstant(e) != nil }),
            let epsilon = scalarConstant(epsilonName),
            let (pv, varianceMean) = inner(variance, "ReduceMean"), let axes = meanAxes(varianceMean),
            let (ps, _) = inner(varianceMean.input.first ?? "", square: centred),
            let pd = producer[centred], !absorbed.contains(pd), onnx.node[pd].opType == "Sub", onnx.node[pd].input.count == 2,
            !outputNames.contains(centred), Set(readers[centred] ?? []).isSubset(of: [ps] + divisionNodes.prefix(1)),
            let (pm, mean) = inner(onnx.node[pd].input[1], "ReduceMean"), meanAxes(mean) == axes,
            let x = mean.input.first, onnx.node[pd].input[0] == x, let axis = firstAxis(axes)
        else { return nil }
        chain += [pq, pe, pv, ps, pd, pm]
        return (.layerNormalization(LayerNormalization(axis: axis, epsilon: epsilon)), [x, gamma] + offset, chain)
    }

    /// `Div(d, s)` or `Mul(d, Reciprocal(s))` producing `value`: `(d, s, [division node, reciprocal?])`.
    private func division(_ value: String) -> (String, String, [Int])? {
        if let (p, div) = inner(value, "Div"), div.input.count == 2 { return (div.input[0], div.input[1], [p]) }
        guard let (p, mul) = inner(value, "Mul") else { return nil }
        var reciprocal: (Int, Onnx_NodeProto)?
        guard
            let (d, _) = operands(
                mul,
                where: { _, r in
                    reciprocal = inner(r, "Reciprocal"); return reciprocal != nil
                }),
            let (pr, r) = reciprocal, let s = r.input.first
        else { return nil }
        return (d, s, [p, pr])
    }

    /// The node squaring `d` into `value` (`Mul(d, d)` or `Pow(d, 2)`).
    private func inner(_ value: String, square d: String) -> (Int, Onnx_NodeProto)? {
        if let (p, mul) = inner(value, "Mul"), mul.input == [d, d] { return (p, mul) }
        if let (p, pow) = inner(value, "Pow"), pow.input.count == 2, pow.input[0] == d, scalarConstant(pow.input[1]) == 2 { return (p, pow) }
        return nil
    }

    /// A keepdims ReduceMean's axes (attribute below opset 18, constant input from 18), sorted.
    private func meanAxes(_ node: Onnx_NodeProto) -> [Int]? {
        guard node.int("keepdims", default: 1) == 1 else { return nil }
        if let axes = node.ints("axes") { return axes.sorted() }
        guard node.input.count > 1, let c = constants[node.input[1]], let values = c.integers else { return nil }
        return values.map { Int($0) }.sorted()
    }

    /// The first of contiguous axes all negative (ending at −1) or all non-negative.
    private func firstAxis(_ axes: [Int]) -> Int? {
        guard let first = axes.first, axes == Array(first..<(first + axes.count)) else { return nil }
        if first < 0 { return axes.last == -1 ? first : nil }
        return first
    }

    /// A fused node completed against the shapes known when it is emitted: LayerNormalization's
    /// axis resolved and checked to reach the last axis, scale and offset reshaped to the
    /// normalized axes (PyTorch writes them so; other producers may add leading 1s).
    mutating func resolvedFused(_ fusedNode: Node, _ anchor: Onnx_NodeProto) throws -> Node {
        guard case .layerNormalization(var ln) = fusedNode.op else { return fusedNode }
        let x = try shape(fusedNode.inputs[0], anchor)
        if ln.axis < 0 { ln.axis += x.count }
        guard ln.axis >= 1, ln.axis < x.count else { throw fail(anchor, "normalizes the batch axis (layer normalization over axes \(ln.axis)… of \(x))") }
        let trailing = Array(x[ln.axis...])
        var node = fusedNode
        node.op = .layerNormalization(ln)
        for i in 1..<node.inputs.count {
            guard let c = constants[node.inputs[i]], c.tensor.count == Checked.product(trailing) else {
                throw fail(anchor, "normalizes axes \(ln.axis)… of \(x) but its \(i == 1 ? "scale" : "offset") has shape \(constants[node.inputs[i]]?.shape ?? [])")
            }
            guard c.shape != trailing else { continue }
            let name = node.name + (i == 1 ? "/scale" : "/offset")
            constants[name] = ONNXConstant(tensor: try Tensor(shape: trailing, storage: c.tensor.storage), integers: nil)
            node.inputs[i] = name
        }
        return node
    }
}
