import Engine
import Foundation
import TensorCore

/// SmoothQuant (Xiao et al., 2023): a Dense input `X` with a few outlier channels makes one
/// activation scale per tensor coarse for every other channel. With per-channel factors
/// `s_j = max|X_j|^α / max|W_j|^(1−α)` (`W_j`: row `j` of the weights of every Dense reading
/// `X`), `X·W = (X / s)·(s · W)`: the outliers move into the weights, which are quantized per
/// channel and can take them. `X / s` is folded into the node that makes `X` — a
/// LayerNormalization (its scale and offset) or a Dense (its output columns and bias) — so the
/// file gains no node. Inputs whose producer cannot absorb a per-channel factor, or that other
/// nodes read too, are left as they are and reported.
public enum SmoothQuant {
    /// What happened to one smoothed input.
    public struct Result: Sendable, Equatable {
        /// Node name → the largest factor `s_j` applied to its input (smoothed Dense nodes).
        public var maxScale: [String: Float] = [:]
        /// Node name → why its input was left as it was (planned Dense nodes not smoothed).
        public var skipped: [String: String] = [:]
    }

    /// `graph` with the inputs of the planned Dense nodes smoothed at migration strength
    /// `alpha` ∈ [0, 1], measured on the first `samples` of `data`.
    public static func apply(
        _ graph: Graph, plan: QuantizationPlan, alpha: Float, data: any BatchSource, samples: Int?, batchSize: Int
    ) throws -> (graph: Graph, result: Result) {
        var result = Result()
        var readers: [String: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() { for input in Set(node.inputs) { readers[input, default: []].append(i) } }
        let planned = Set(plan.compute.filter { graph.nodes[$0.index].op == .linear }.map(\.index))
        var groups: [(value: String, producer: Int, dense: [Int])] = []
        for value in Set(planned.map { graph.nodes[$0].inputs[0] }).sorted() {
            let dense = (readers[value] ?? []).filter(planned.contains)
            func skip(_ reason: String) { for d in dense { result.skipped[graph.nodes[d].name] = reason } }
            if let other = (readers[value] ?? []).first(where: { !planned.contains($0) || graph.nodes[$0].inputs[0] != value }) {
                skip("its input is also read by '\(graph.nodes[other].name)' (\(graph.nodes[other].op.name)), which a factor would change")
                continue
            }
            if graph.outputs.contains(where: { $0.name == value }) {
                skip("its input is a model output")
                continue
            }
            guard let producer = graph.nodes.firstIndex(where: { $0.outputs.contains(value) }), absorbs(graph.nodes[producer], graph) else {
                let by = graph.nodes.first { $0.outputs.contains(value) }.map { "'\($0.name)' (\($0.op.name))" } ?? "the graph input"
                skip("its input comes from \(by), which cannot absorb a factor per channel")
                continue
            }
            groups.append((value, producer, dense))
        }
        guard !groups.isEmpty else { return (graph, result) }
        let absMax = try channelAbsMax(of: groups.map(\.value), in: graph, data: data, samples: samples, batchSize: batchSize)
        var out = graph
        for group in groups {
            guard let xMax = absMax[group.value] else { continue }
            // Row j of every reader's K×M weights: the largest |w| over the readers' rows.
            let wMax = group.dense.map { out.initializers[out.nodes[$0].inputs[1]]!.absMax(alongAxis: 0) }
                .reduce([Float](repeating: 0, count: xMax.count)) { zip($0, $1).map(max) }
            let s = zip(xMax, wMax).map { x, w -> Float in
                guard x > 0, w > 0 else { return 1 }
                return max(1e-5, pow(x, alpha) / pow(w, 1 - alpha))
            }
            divideOutputs(of: group.producer, by: s, in: &out)
            for d in group.dense {
                let name = out.nodes[d].inputs[1]
                var w = out.initializers[name]!
                let columns = w.shape[1]
                for j in 0..<s.count { for k in 0..<columns { w.storage[j * columns + k] *= s[j] } }
                out.initializers[name] = w
                result.maxScale[out.nodes[d].name] = s.max() ?? 1
            }
        }
        return (out, result)
    }

    /// Whether `node` can take a factor per output channel (last axis) into its own constants:
    /// a LayerNormalization over the last axis with constant scale (and offset), or a Dense
    /// with constant weights, each read by this node alone.
    static func absorbs(_ node: Node, _ graph: Graph) -> Bool {
        if case .layerNormalization(let ln) = node.op {
            guard let rank = graph.shapes[node.inputs[0]]?.count, ln.axis == rank - 1 else { return false }
        } else if node.op != .linear {
            return false
        }
        return node.inputs.dropFirst().allSatisfy { name in
            graph.initializers[name] != nil && graph.nodes.filter { $0.inputs.contains(name) }.count == 1
        }
    }

    /// Divides output channel `j` (last axis) of node `index` by `s[j]` through its constants.
    static func divideOutputs(of index: Int, by s: [Float], in graph: inout Graph) {
        let node = graph.nodes[index]
        for (position, name) in node.inputs.enumerated().dropFirst() {
            guard var t = graph.initializers[name] else { continue }
            if case .linear = node.op, position == 1 {
                let columns = t.shape[1]
                for i in 0..<t.count { t.storage[i] /= s[i % columns] }
            } else {
                for j in 0..<t.count { t.storage[j] /= s[j] }
            }
            graph.initializers[name] = t
        }
    }

    /// Per-channel (last axis) maximum of |x| of each of `values` over the data.
    static func channelAbsMax(of values: [String], in graph: Graph, data: any BatchSource, samples: Int?, batchSize: Int) throws -> [String: [Float]] {
        let wanted = Set(values)
        var found: [String: [Float]] = [:]
        try Executor(graph: graph).observe(data, samples: samples, batchSize: batchSize) { name, value in
            guard wanted.contains(name), let channels = value.shape.last else { return }
            var m = found[name] ?? [Float](repeating: 0, count: channels)
            for (i, v) in value.storage.enumerated() { m[i % channels] = max(m[i % channels], abs(v)) }
            found[name] = m
        }
        return found
    }
}
