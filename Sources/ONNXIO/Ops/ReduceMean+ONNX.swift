import ONNXProto
import TensorCore

extension ReduceMean: ONNXLowering {
    /// `ReduceMean` with `axes` as an attribute below opset 18, as an int64 input from 18.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        let keep = ONNXAttribute.int("keepdims", keepDims ? 1 : 0)
        if b.opset >= 18 {
            b.single(node, "ReduceMean", [keep], inputs: [node.inputs[0], b.int64s(node.name + "/axes", axes)])
        } else {
            b.single(node, "ReduceMean", [.ints("axes", axes), keep])
        }
    }
    var lowersOnIntegers: Bool { false }
}

// Import: ReduceMean
extension ONNXImportContext {
    /// ReduceMean over non-batch axes (attribute before opset 18, input from 18).
    mutating func importReduceMean(_ node: Onnx_NodeProto, _ i: Int) throws {
        let rank = try shape(node.input[0], node).count
        let given = try opset >= 18 ? integers(node, 1, what: "axes") : node.ints("axes")
        guard let axes = given, !axes.isEmpty else {
            if node.int("noop_with_empty_axes", default: 0) != 0 { return try emit(node, i, .identity, [node.input[0]]) }
            throw fail(node, "reduces every axis, the batch axis included")
        }
        let normal = axes.map { $0 < 0 ? $0 + rank : $0 }
        guard normal.allSatisfy({ $0 >= 1 && $0 < rank }), Set(normal).count == normal.count else {
            throw fail(node, "reduces axes \(axes): the batch axis, a repeated axis or one out of range")
        }
        try emit(node, i, .reduceMean(ReduceMean(axes: normal, keepDims: node.int("keepdims", default: 1) != 0)), [node.input[0]])
    }
}
