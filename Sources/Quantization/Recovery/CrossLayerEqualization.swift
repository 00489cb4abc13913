import TensorCore

/// Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019; AIMET, NNCF): for
/// two weight layers in a chain, `L1 → f → L2`, where `f` commutes with a positive factor per
/// channel (ReLU, max pooling, nothing), output channel `c` of `L1` is divided by `s_c` and
/// input channel `c` of `L2` multiplied by it: the float function is unchanged, and with
/// `s_c = sqrt(r1_c / r2_c)` (`r`: the channel's largest |w|) both channels end with the same
/// range `sqrt(r1_c · r2_c)`. Channels whose ranges differ a lot within a tensor — depthwise
/// convolutions above all — then share one scale per tensor much better. Needs no data.
public enum CrossLayerEqualization {
    /// One equalized pair.
    public struct Pair: Sendable, Equatable {
        /// The producing and the consuming node.
        public var first: String, second: String
        /// The largest factor `s_c` applied over all sweeps (product per channel).
        public var maxScale: Float
    }

    /// `graph` with every chain's pairs equalized, sweeping the pairs in graph order `sweeps`
    /// times (a layer in the middle of a chain is equalized with both neighbours in turn).
    public static func apply(_ graph: Graph, sweeps: Int = 8) -> (graph: Graph, pairs: [Pair]) {
        let chains = pairs(in: graph)
        var out = graph
        var total = chains.map { _ in [Float]() }
        for _ in 0..<max(1, sweeps) {
            for (k, chain) in chains.enumerated() {
                let s = equalize(chain, in: &out)
                total[k] = total[k].isEmpty ? s : zip(total[k], s).map(*)
            }
        }
        let found = zip(chains, total).map { chain, s in
            Pair(first: out.nodes[chain.first].name, second: out.nodes[chain.second].name, maxScale: s.map { max($0, 1 / $0) }.max() ?? 1)
        }
        return (out, found)
    }

    /// A weight layer's channel axis: the axis of its weight along which output (`produces`) or
    /// input (`consumes`) channels run — filter banks by their channel rule, depthwise
    /// convolutions (one output per input channel) along axis 0 — with the bias for outputs.
    static func axis(_ node: Node, _ graph: Graph, output: Bool) -> Int? {
        guard node.computeOperands != nil, node.inputs.count >= 2, let w = graph.initializers[node.inputs[1]] else { return nil }
        switch node.op.definition.channelRule(inputs: node.inputs.map { graph.shapes[$0] ?? [] }) {
        case .filters(let consumes, let produces, _, _): return output ? produces : consumes
        case .grouped(let groups): return groups == w.shape[0] && w.rank == 4 && w.shape[1] == 1 ? 0 : nil
        default: return nil
        }
    }

    /// Producer → consumer index pairs joined by a chain of nodes that each keep channel `c` at
    /// `c` and commute with a positive factor per channel: values transparent to quantization
    /// (max pooling, which moves values) and clamps at zero without an upper bound (ReLU). Each
    /// value on the chain has one reader and is no model output; weights are read by their node alone.
    static func pairs(in graph: Graph) -> [(first: Int, second: Int)] {
        var readers: [String: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() { for input in Set(node.inputs) { readers[input, default: []].append(i) } }
        let outputs = Set(graph.outputs.map(\.name))
        func owned(_ node: Node) -> Bool { node.inputs.dropFirst().allSatisfy { readers[$0]?.count == 1 } }
        var found: [(Int, Int)] = []
        for (i, node) in graph.nodes.enumerated() where axis(node, graph, output: true) != nil && owned(node) {
            var value = node.output
            while !outputs.contains(value), let next = readers[value], next.count == 1 {
                let reader = graph.nodes[next[0]]
                if reader.inputs.first == value, axis(reader, graph, output: false) != nil, owned(reader) {
                    found.append((i, next[0]))
                    break
                }
                guard reader.inputs.count == 1, keepsChannels(reader, graph) else { break }
                value = reader.output
            }
        }
        return found
    }

    /// Whether `node` passes channel `c` (axis 1) to channel `c` and commutes with a positive
    /// factor per channel.
    static func keepsChannels(_ node: Node, _ graph: Graph) -> Bool {
        let role = node.op.definition.quantizationRole
        let scales: Bool
        switch role {
        case .transparent: scales = true
        case .foldableClamp(let upper): scales = upper == .infinity
        default: scales = false
        }
        guard scales, case .passThrough(let blocked, let perChannel, _) = node.op.definition.channelRule(inputs: [graph.shapes[node.inputs[0]] ?? []]),
            perChannel.isEmpty
        else { return false }
        switch blocked {
        case .none: return true
        case .axes(let axes): return !axes.contains(1)
        case .allBut(let axis, _): return axis == 1
        }
    }

    /// Equalizes one pair in place; returns the factors applied.
    static func equalize(_ pair: (first: Int, second: Int), in graph: inout Graph) -> [Float] {
        let producer = graph.nodes[pair.first], consumer = graph.nodes[pair.second]
        guard let a1 = axis(producer, graph, output: true), let a2 = axis(consumer, graph, output: false),
            var w1 = graph.initializers[producer.inputs[1]], var w2 = graph.initializers[consumer.inputs[1]],
            w1.shape[a1] == w2.shape[a2]
        else { return [] }
        let r1 = w1.absMax(alongAxis: a1), r2 = w2.absMax(alongAxis: a2)
        let s = zip(r1, r2).map { a, b -> Float in a > 0 && b > 0 ? (a / b).squareRoot() : 1 }
        scale(&w1, axis: a1) { 1 / s[$0] }
        scale(&w2, axis: a2) { s[$0] }
        graph.initializers[producer.inputs[1]] = w1
        graph.initializers[consumer.inputs[1]] = w2
        if let b = producer.bias, var bias = graph.initializers[b], bias.count == s.count {
            for c in 0..<s.count { bias.storage[c] /= s[c] }
            graph.initializers[b] = bias
        }
        return s
    }

    /// Multiplies index `c` of `axis` of `w` by `factor(c)`.
    static func scale(_ w: inout Tensor, axis: Int, by factor: (Int) -> Float) {
        let channels = w.shape[axis], inner = w.shape[(axis + 1)...].reduce(1, *)
        for i in w.storage.indices { w.storage[i] *= factor((i / inner) % channels) }
    }
}
