import ONNXProto
import TensorCore

extension ONNXImporter {
    /// The float16 values of an ONNX graph, by name: float16 initializers and graph inputs,
    /// outputs of a Cast to float16, and the outputs of every other node that reads a float16
    /// value (ONNX ops compute in the type of their float inputs). A float16 weight cast to
    /// float32 counts as float16 (the weights-only form): it holds float16 values, and writing
    /// the model again stores it half.
    static func halfPrecisionValues(of graph: Onnx_GraphProto) -> Set<String> {
        let halfWeights = Set(graph.initializer.filter { $0.dataType == ONNXDataType.float16 }.map(\.name))
        var half = halfWeights
        for input in graph.input {
            if case .tensorType(let t)? = input.type.value, t.elemType == ONNXDataType.float16 { half.insert(input.name) }
        }
        for node in graph.node {
            let isHalf: Bool
            switch node.opType {
            case "Cast": isHalf = node.attribute.first { $0.name == "to" }?.i == Int64(ONNXDataType.float16)
            case "Shape", "Size", "Equal", "Greater", "Less", "Not", "ArgMax", "ArgMin", "NonZero": isHalf = false
            default: isHalf = node.input.contains(where: half.contains)
            }
            if isHalf { half.formUnion(node.output.filter { !$0.isEmpty }) }
        }
        for node in graph.node where node.opType == "Cast" && node.input.count == 1 && halfWeights.contains(node.input[0]) {
            half.formUnion(node.output)
        }
        return half
    }
}
