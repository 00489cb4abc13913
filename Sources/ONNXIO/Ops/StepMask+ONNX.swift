import ONNXProto
import TensorCore

extension StepMask: ONNXLowering {
    /// `Cast(Not(Equal(x, value)))` to float; for N×L×F, `ReduceMax` over the features
    /// (`axes` an attribute below opset 18, an input from 18). ModelPress does not import it
    /// back (it writes it only in front of masked recurrent layers, which it does not read).
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        guard let x = b.shape(of: node.inputs[0]) else { throw ModelPressError.internalError("step mask '\(node.name)' without an input shape") }
        var input = node.inputs[0]
        if (b.graph.inputs.first { $0.name == input }?.elementType ?? .float32) != .float32 {
            // Integer token ids, compared as floats (as the engine holds them).
            input = b.fresh(node.name + "/ids")
            b.add("Cast", name: input, inputs: [node.inputs[0]], output: input, attributes: [.int("to", Int(ONNXDataType.float))], shape: x)
        }
        let equal = b.fresh(node.name + "/padded"), kept = b.fresh(node.name + "/kept")
        b.add("Equal", name: equal, inputs: [input, b.scalar(node.name + "/value", value)], output: equal, shape: x, elemType: ONNXDataType.bool)
        b.add("Not", name: kept, inputs: [equal], output: kept, shape: x, elemType: ONNXDataType.bool)
        let cast = [.int("to", Int(ONNXDataType.float))] as [Onnx_AttributeProto]
        guard x.count == 3 else { return b.single(node, "Cast", cast, inputs: [kept]) }
        let perFeature = b.fresh(node.name + "/per_feature")
        b.add("Cast", name: perFeature, inputs: [kept], output: perFeature, attributes: cast, shape: x)
        let keep = ONNXAttribute.int("keepdims", 0)
        if b.opset >= 18 {
            b.single(node, "ReduceMax", [keep], inputs: [perFeature, b.int64s(node.name + "/axes", [2])])
        } else {
            b.single(node, "ReduceMax", [.ints("axes", [2]), keep], inputs: [perFeature])
        }
    }
    var lowersOnIntegers: Bool { false }
}
