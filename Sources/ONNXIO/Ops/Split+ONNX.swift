import ONNXProto
import TensorCore

extension Split: ONNXLowering {
    /// `Split` with the part sizes as an int64 input (opset 13+).
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        let sizesName = b.int64s(node.name + "/split", sizes)
        b.add(
            "Split", name: node.name, inputs: [node.inputs[0], sizesName], outputs: node.outputs, attributes: [.int("axis", axis)],
            shapes: node.outputs.map { b.graph.shapes[$0] }, docString: b.layerDoc(node))
    }
    var lowersOnIntegers: Bool { false }
}

// Import: Split (sizes from the `split` input, or equal parts from `num_outputs` / the output count)
extension ONNXImportContext {
    mutating func importSplit(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        var axis = node.int("axis", default: 0)
        if axis < 0 { axis += x.count }
        guard axis >= 1, axis < x.count else { throw fail(node, "splits the batch axis or an axis out of range") }
        let sizes: [Int]
        if node.input.count > 1, !node.input[1].isEmpty {
            sizes = try integers(node, 1, what: "split") ?? []
        } else if let attribute = node.attribute("split") {
            sizes = attribute.ints.map(Int.init)
        } else {
            let parts = node.output.count
            guard parts >= 1, x[axis] % parts == 0 else { throw fail(node, "cannot split \(x[axis]) into \(parts) equal parts") }
            sizes = Array(repeating: x[axis] / parts, count: parts)
        }
        guard sizes.count == node.output.count else { throw fail(node, "has \(node.output.count) outputs for \(sizes.count) parts") }
        try emit(node, i, .split(Split(axis: axis, sizes: sizes)), [node.input[0]], outputs: node.output)
    }
}
