import ONNXProto
import TensorCore

// Import: 1-D Conv and pooling (N×C×L, as torch.onnx.export writes Conv1d / MaxPool1d)
extension ONNXImportContext {
    /// The ONNX operators read in 1-D by lifting them to 2-D.
    static let liftedTo2D: Set<String> = ["Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"]

    /// A 1-D Conv / pooling on N×C×L run as the 2-D operator on N×C×1×L (the lifting the Keras
    /// 1-D layers use): reshaped in, the node's attributes and weights given a leading size-1
    /// axis, imported by the 2-D importer, and reshaped out to N×C'×L'.
    mutating func importLifted1D(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let name = nodeName(node, i)
        var lift = node
        lift.name = name + "/image"
        lift.output = [uniqueConstantName(name + "/image")]
        try emit(lift, i, .reshape([x[1], 1, x[2]]), [node.input[0]])

        var lifted = node
        lifted.name = name + "/2d"
        lifted.input[0] = lift.output[0]
        lifted.output[0] = uniqueConstantName(name + "/2d")
        lifted.attribute = node.attribute.map { attribute in
            var a = attribute
            switch (a.name, a.ints.count) {
            case ("kernel_shape", 1), ("strides", 1), ("dilations", 1), ("output_padding", 1): a.ints = [1] + a.ints
            case ("pads", 2): a.ints = [0, a.ints[0], 0, a.ints[1]]
            default: break
            }
            return a
        }
        if node.opType == "Conv" {
            guard node.input.count > 1, let w = constants[node.input[1]], w.shape.count == 3 else {
                throw fail(node, "is a 1-D convolution whose weights are not a constant O×C×k tensor")
            }
            let weights = uniqueConstantName(node.input[1] + "/2d")
            constants[weights] = ONNXConstant(tensor: try w.tensor.reshaped([w.shape[0], w.shape[1], 1, w.shape[2]]), integers: nil)
            lifted.input[1] = weights
        }
        switch node.opType {
        case "Conv": try importConv(lifted, i)
        case "GlobalAveragePool": try emit(lifted, i, .globalAveragePool, [lifted.input[0]])
        case "GlobalMaxPool": try emit(lifted, i, .globalMaxPool, [lifted.input[0]])
        default: try importPool(lifted, i)
        }
        let y = try shape(lifted.output[0], lifted)
        try emit(node, i, .reshape([y[1], y[3]]), [lifted.output[0]])
    }
}
