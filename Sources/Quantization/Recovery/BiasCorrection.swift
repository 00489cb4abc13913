import Engine
import TensorCore

/// Bias correction (Nagel et al., "Data-Free Quantization", 2019; NNCF's fast bias
/// correction): quantized weights `Ŵ = W + ΔW` shift a Conv / Dense output channel `c` by
/// `E[(ΔW ∗ x)_c]` on average, which the bias can take back. The mean is measured on the
/// calibration data with the float model's inputs to each layer (the layer run once more with
/// `ΔW` as its weight and no bias), over samples and positions; `StaticQuantizer` subtracts it
/// from the bias of every layer it quantizes, adding a bias where the layer has none.
public enum BiasCorrection {
    /// The mean output shift per channel of every compute node of `plan`, by node name, with
    /// weights quantized as `options` says; streams the first `samples` of `data` in batches.
    public static func measure(
        _ graph: Graph, plan: QuantizationPlan, options: StaticQuantizationOptions, data: any BatchSource, samples: Int?, batchSize: Int
    ) throws -> [String: [Float]] {
        var probe = graph
        var probes: [(node: String, value: String, axis: Int, channels: Int)] = []
        for c in plan.compute {
            let node = graph.nodes[c.index]
            guard let w = graph.initializers[c.weight], let outputShape = graph.shapes[node.output] else { continue }
            // Output channels: a filter bank's `produces` axis of the weight; a grouped
            // (depthwise) convolution's weight axis 0. Both along the output's channel axis.
            let (produces, outputAxis): (Int, Int)
            switch node.op.definition.channelRule(inputs: node.inputs.map { graph.shapes[$0] ?? [] }) {
            case .filters(_, let p, _, let a): (produces, outputAxis) = (p, a)
            case .grouped: (produces, outputAxis) = (0, 1)
            default: continue
            }
            var delta = w
            StaticQuantizer.weightQuantization(w, of: node, axis: c.channelAxis, options: options).fakeQuantize(&delta)
            for i in delta.storage.indices { delta.storage[i] -= w.storage[i] }
            let deltaName = probe.uniqueName("\(node.name)/bias_correction/delta_w")
            try probe.addInitializer(deltaName, delta)
            let value = probe.uniqueName("\(node.name)/bias_correction/shift")
            var inputs = node.inputs
            inputs[1] = deltaName
            if inputs.count > 2 { inputs.removeSubrange(2...) }
            try probe.append(Node(name: value, op: node.op, inputs: inputs, output: value, layer: node.layer))
            probe.outputs.append(ValueInfo(name: value, shape: outputShape))
            let axis = outputAxis < 0 ? outputShape.count + outputAxis : outputAxis
            probes.append((node.name, value, axis, w.shape[produces]))
        }
        var sums = Dictionary(uniqueKeysWithValues: probes.map { ($0.value, [Double](repeating: 0, count: $0.channels)) })
        var counts = Dictionary(uniqueKeysWithValues: probes.map { ($0.value, 0) })
        let byValue = Dictionary(uniqueKeysWithValues: probes.map { ($0.value, $0) })
        try Executor(graph: probe).observe(data, samples: samples, batchSize: batchSize) { name, value in
            guard let p = byValue[name], value.shape.count > p.axis, value.shape[p.axis] == p.channels else { return }
            let inner = value.shape[(p.axis + 1)...].reduce(1, *)
            value.storage.withUnsafeBufferPointer { v in
                sums[name]!.withUnsafeMutableBufferPointer { s in
                    for i in 0..<v.count { s[(i / inner) % p.channels] += Double(v[i]) }
                }
            }
            counts[name]! += value.count / p.channels
        }
        var shifts: [String: [Float]] = [:]
        for p in probes where counts[p.value]! > 0 {
            shifts[p.node] = sums[p.value]!.map { Float($0 / Double(counts[p.value]!)) }
        }
        return shifts
    }

    /// Subtracts `shift` (one value per output channel) from the bias of node `node` in `graph`,
    /// adding a zero bias input first when it has none; returns the bias initializer's name.
    static func apply(_ shift: [Float], to node: String, bias: String?, in graph: inout Graph) throws -> String {
        guard let index = graph.nodes.firstIndex(where: { $0.name == node }) else {
            throw ModelPressError.internalError("bias correction: no node '\(node)'")
        }
        var name = bias ?? ""
        if bias == nil {
            name = graph.uniqueName("\(node)/bias")
            try graph.addInitializer(name, Tensor(shape: [shift.count], repeating: 0))
            graph.nodes[index].inputs.append(name)
        }
        guard var b = graph.initializers[name], b.count == shift.count else {
            throw ModelPressError.internalError("bias correction: the bias of '\(node)' does not have \(shift.count) channels")
        }
        for c in 0..<shift.count { b.storage[c] -= shift[c] }
        graph.initializers[name] = b
        return name
    }
}
