import ONNXProto
import TensorCore

extension Softmax: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "Softmax", [.int("axis", axis)]) }
    var lowersOnIntegers: Bool { false }
}

// Import: Softmax
extension ONNXImportContext {
    /// Softmax over one axis (opset 13 meaning; older opsets only when the axis is the last).
    mutating func importSoftmax(_ node: Onnx_NodeProto, _ i: Int) throws {
        let rank = try shape(node.input[0], node).count
        var axis = node.int("axis", default: opset >= 13 ? -1 : 1)
        if axis < 0 { axis += rank }
        guard axis >= 1, axis < rank else { throw fail(node, "axis \(axis) is the batch axis or out of range") }
        guard opset >= 13 || axis == rank - 1 else { throw fail(node, "before opset 13 Softmax flattens axes \(axis)…; only the last axis is supported") }
        try emit(node, i, .softmax(axis: axis), [node.input[0]])
    }
}
