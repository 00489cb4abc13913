import ONNXProto
import TensorCore

extension StepMask: ONNXLowering {
    /// `Cast(Not(Equal(x, value)))` to float; for N×L×F, `ReduceMax` over the features
    /// (`axes` an attribute below opset 18, an input from 18); read back by `matchStepMask`.
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

// Import: the step mask as the exporter writes it
extension ONNXImportContext {
    /// `Cast(Not(Equal(x, c)), float)` of ids N×L, or `ReduceMax` of it over the last axis of a
    /// sequence N×L×F (keepdims 0) → `stepMask(c)` of `x`.
    func matchStepMask(_ anchor: Onnx_NodeProto) -> (Op, [String], [Int])? {
        var cast = anchor, absorbed: [Int] = [], rank = 2
        if anchor.opType == "ReduceMax" {
            let axes = opset >= 18 ? (try? integers(anchor, 1, what: "axes")) ?? nil : anchor.ints("axes")
            guard anchor.int("keepdims", default: 1) == 0, axes == [2] || axes == [-1], let (c, inner) = inner(anchor.input[0], "Cast") else { return nil }
            (cast, rank) = (inner, 3)
            absorbed.append(c)
        }
        guard cast.int("to", default: 0) == Int(ONNXDataType.float), let (n, not) = inner(cast.input[0], "Not"), let (e, equal) = inner(not.input[0], "Equal"),
            equal.input.count == 2, let value = scalarConstant(equal.input[1]), constants[equal.input[0]] == nil, declaredRank(equal.input[0]) == rank
        else { return nil }
        return (.stepMask(StepMask(value: value)), [equal.input[0]], absorbed + [n, e])
    }

    /// The rank the file declares for `value` (a graph input or a `value_info` entry).
    private func declaredRank(_ value: String) -> Int? {
        guard let info = (onnx.input + onnx.valueInfo).first(where: { $0.name == value }), case .tensorType(let t)? = info.type.value, t.hasShape else { return nil }
        return t.shape.dim.count
    }
}
