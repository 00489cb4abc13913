import ONNXProto
import TensorCore

extension LayerNormalization: ONNXLowering {
    /// `LayerNormalization` from opset 17; below it the same computation from standard ops
    /// (`lowerDecomposed_13`), which the importer recognises.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        if b.opset >= 17 {
            b.single(node, "LayerNormalization", [.int("axis", axis), .float("epsilon", epsilon)])
        } else {
            lowerDecomposed_13(node, &b)
        }
    }
    var lowersOnIntegers: Bool { false }

    /// `d = x − ReduceMean(x); y = d / Sqrt(ReduceMean(d·d) + ε) · scale (+ offset)`, with
    /// `ReduceMean` over the normalized axes (`axes` attribute: opsets 13–17).
    func lowerDecomposed_13(_ node: Node, _ b: inout ONNXGraphBuilder) {
        let x = node.inputs[0]
        let shape = b.graph.shapes[x] ?? []
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

// Import: LayerNormalization (opset 17) directly; the decomposed form through
// `matchLayerNormalization` in ONNXImporter+Patterns.
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
        try emit(node, i, .layerNormalization(LayerNormalization(axis: axis, epsilon: node.float("epsilon", default: 1e-5))),
                 Array(node.input.prefix(3)))
    }
}
