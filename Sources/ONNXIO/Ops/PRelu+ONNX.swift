import ONNXProto
import TensorCore

extension PRelu: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "PRelu") }
    var lowersOnIntegers: Bool { false }
}

// Import: PRelu
extension ONNXImportContext {
    /// PRelu: the slope loses a leading 1 so that it has no batch axis.
    mutating func importPRelu(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        var slope = try constantInput(node, 1, what: "slope")
        if slope.shape.count == x.count {
            guard slope.shape.first == 1 else { throw fail(node, "slope \(slope.shape) varies along the batch axis") }
            slope.tensor = try slope.tensor.reshaped(Array(slope.shape.dropFirst()))
        }
        let name = node.input[1]
        if graph.initializers[name] == nil { try graph.addInitializer(name, slope.tensor) }
        try emit(node, i, .prelu, [node.input[0], name])
    }
}
