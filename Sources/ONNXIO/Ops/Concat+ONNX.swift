import ONNXProto
import TensorCore

extension Concat: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "Concat", [.int("axis", axis)]) }
    var lowersOnIntegers: Bool { false }
}

// Import: Concat
extension ONNXImportContext {
    /// Concat along a non-batch axis.
    mutating func importConcat(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        var axis = node.int("axis", default: 0)
        if axis < 0 { axis += x.count }
        guard axis >= 1, axis < x.count else { throw fail(node, "concatenates along the batch axis (\(axis))") }
        guard node.input.contains(where: { constants[$0] == nil }) else { throw fail(node, "concatenates constants only") }
        try emit(node, i, .concat(axis: axis), node.input)
    }
}
