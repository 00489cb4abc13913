import ONNXProto
import TensorCore

extension BatchNormalization: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "BatchNormalization", [.float("epsilon", epsilon)]) }
    var lowersOnIntegers: Bool { false }
}

// Import: BatchNormalization (inference form)
extension ONNXImportContext {
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
}
