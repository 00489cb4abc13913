import ONNXProto
import TensorCore

extension MatMul: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "MatMul") }
    var lowersOnIntegers: Bool { false }
}
