import ONNXProto
import TensorCore

extension ExpandBatch: ONNXLowering {
    /// `Expand(c, Concat(Shape(reference)[0:1], c.shape[1…]))`.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        guard let c = b.graph.shapes[node.inputs[1]] else { throw ModelPressError.internalError("ExpandBatch '\(node.name)' without a constant shape") }
        let shape = b.fresh(node.name + "/reference_shape")
        b.add("Shape", name: shape, inputs: [node.inputs[0]], output: shape, shape: [b.shape(of: node.inputs[0])?.count ?? 1], elemType: ONNXDataType.int64)
        let batch = b.fresh(node.name + "/batch")
        b.add(
            "Slice", name: batch, inputs: [shape, b.int64s(node.name + "/zero", [0]), b.int64s(node.name + "/one", [1])], output: batch, shape: [1],
            elemType: ONNXDataType.int64)
        let target = b.fresh(node.name + "/target_shape")
        b.add(
            "Concat", name: target, inputs: [batch, b.int64s(node.name + "/sample_shape", Array(c.dropFirst()))], output: target,
            attributes: [.int("axis", 0)], shape: [c.count], elemType: ONNXDataType.int64)
        b.single(node, "Expand", inputs: [node.inputs[1], target])
    }
    var lowersOnIntegers: Bool { false }
}

// Import: Expand of a constant to a shape whose batch size is read from the data
extension ONNXImportContext {
    /// `Expand(c, shape)` with a constant `c` and a shape known but for its batch entry: the
    /// constant broadcast to the shape's other sizes, repeated over the batch of the value the
    /// shape was read from (else the first graph input).
    mutating func importExpand(_ node: Onnx_NodeProto, _ i: Int) throws {
        guard node.input.count == 2, let c = constants[node.input[0]], let target = known(node.input[1]), target.values.count >= 2,
            target.values[0] == nil, !target.values.dropFirst().contains(nil), let reference = graph.inputs.first?.name
        else { throw fail(node, "expands a run-time value or to a shape that depends on more than the batch size") }
        // Expand broadcasts both ways: each size is the larger where the other is 1.
        var source = c.tensor.shape, sample = target.integers.dropFirst().map { $0! }
        while source.count < sample.count + 1 { source.insert(1, at: 0) }
        while sample.count < source.count - 1 { sample.insert(1, at: 0) }
        guard source[0] == 1, zip(source.dropFirst(), sample).allSatisfy({ $0 == $1 || $0 == 1 || $1 == 1 }) else {
            throw fail(node, "expands \(c.tensor.shape) to N×\(sample)")
        }
        let broadcast = try FoldingKernels.expand(KnownTensor(c), to: [1] + zip(source.dropFirst(), sample).map { max($0, $1) })
        let expanded = try broadcast.constant().tensor
        // The constant is read as it is when it already is the repeated row (as the exporter writes it).
        let constant = expanded.shape == c.tensor.shape ? node.input[0] : try addInitializer(expanded, named: node.output[0] + "/constant")
        try emit(node, i, .expandBatch(ExpandBatch()), [batchSource(of: node.input[1]) ?? reference, constant])
    }

    /// The run-time value whose `Shape` the shape computation `value` reads (its batch size), if
    /// one is found within a few nodes.
    private func batchSource(of value: String) -> String? {
        var frontier = [value]
        for _ in 0..<6 {
            var next: [String] = []
            for v in frontier {
                guard let p = producer[v] else { continue }
                let node = onnx.node[p]
                if node.opType == "Shape", let source = node.input.first, graph.shapes[source] != nil { return source }
                next += node.input.filter { !$0.isEmpty && constants[$0] == nil }
            }
            frontier = next
        }
        return nil
    }
}
