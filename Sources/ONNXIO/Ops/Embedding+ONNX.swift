import ONNXProto
import TensorCore

extension Embedding: ONNXLowering {
    /// `Gather(table, ids, axis 0)`; ids that the file does not declare as integers (a float
    /// graph input, a computed value) are cast to int64 first.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        var ids = node.inputs[0]
        let declared = b.graph.inputs.first { $0.name == ids }?.elementType ?? .float32
        if declared == .float32 {
            let cast = b.fresh(node.name + "/ids")
            b.add(
                "Cast", name: cast, inputs: [ids], output: cast, attributes: [.int("to", Int(ONNXDataType.int64))], shape: b.shape(of: ids),
                elemType: ONNXDataType.int64)
            ids = cast
        }
        b.single(node, "Gather", [.int("axis", 0)], inputs: [node.inputs[1], ids])
    }
    var lowersOnIntegers: Bool { false }
}

// Import: Gather of rows of a constant table by run-time ids
extension ONNXImportContext {
    /// `Gather(table, ids, axis 0)` with a constant 2-D table and ids computed from the data (a
    /// Gather on constants or shapes is folded before this).
    mutating func importGather(_ node: Onnx_NodeProto, _ i: Int) throws {
        if node.input.count == 2, constants[node.input[0]] == nil, let index = constants[node.input[1]], index.tensor.count == 1 {
            guard let at = index.integers?.first.map(Int.init) ?? Int(exactly: index.tensor.storage[0]) else {
                throw fail(node, "gathers by index \(index.tensor.storage[0]), which is not a whole number")
            }
            return try importGatherOneIndex(node, i, index: at, scalar: index.shape.isEmpty)
        }
        guard node.input.count == 2, let table = constants[node.input[0]], table.shape.count == 2, node.int("axis", default: 0) == 0 else {
            throw unsupported(node)
        }
        _ = try shape(node.input[1], node)
        try emit(node, i, .embedding(Embedding()), [node.input[1], node.input[0]])
    }

    /// `Gather` of one constant index along a non-batch axis of a run-time value (PyTorch's
    /// `y[:, -1]`): a one-wide crop, and a reshape dropping the axis when the index is a scalar.
    private mutating func importGatherOneIndex(_ node: Onnx_NodeProto, _ i: Int, index: Int, scalar: Bool) throws {
        let x = try shape(node.input[0], node)
        var axis = node.int("axis", default: 0)
        if axis < 0 { axis += x.count }
        guard axis >= 1, axis < x.count, (-x[axis]..<x[axis]).contains(index) else {
            throw fail(node, "gathers index \(index) along axis \(axis) of \(x); ModelPress gathers one index along a non-batch axis")
        }
        let at = index < 0 ? index + x[axis] : index
        var begin = [Int](repeating: 0, count: x.count), end = x
        (begin[axis], end[axis]) = (at, at + 1)
        end[0] = dynamicBatch
        guard scalar else { return try emit(node, i, .slice(begin: begin, end: end), [node.input[0]]) }
        let cropped = try appendIntermediate(node, .slice(begin: begin, end: end), [node.input[0]], named: node.output[0] + "/crop")
        var kept = x
        kept.remove(at: axis)
        try emit(node, i, .reshape(Array(kept.dropFirst())), [cropped])
    }

    /// `Cast` of a run-time value: to float32 or float16 a copy (`Graph.halfPrecision` holds
    /// which values are float16); to an integer type only for ids that every reader uses as
    /// Gather indices (ids are whole numbers in float32 here, so the cast keeps them).
    mutating func importCast(_ node: Onnx_NodeProto, _ i: Int) throws {
        var to = Int32(node.int("to", default: Int(ONNXDataType.float)))
        if to == ONNXDataType.float16 { to = ONNXDataType.float }
        let feedsGathersOnly = (readers[node.output[0]] ?? []).allSatisfy { r in
            onnx.node[r].opType == "Gather" && onnx.node[r].input.count == 2 && onnx.node[r].input[1] == node.output[0]
        }
        guard to == ONNXDataType.float || ([ONNXDataType.int32, ONNXDataType.int64].contains(to) && feedsGathersOnly) else { throw unsupported(node) }
        try emit(node, i, .identity, [node.input[0]])
    }
}
