import TensorCore

/// Chooses which values of a float graph are held in float16 (`Graph.halfPrecision`) and
/// reports each node: float16 where its op allows it at the opset, its weights fit float16's
/// range and (with calibration ranges) its values stayed within the headroom; float32
/// otherwise, with the reason. Weights beyond ±65504 are never turned into infinities: their
/// node stays float32.
public enum HalfPrecisionPlanner {
    /// The planned graph and one report row per node, in node order. `ranges`: the largest
    /// |value| calibration saw for each value name (nil: not measured).
    public static func plan(_ graph: Graph, options: HalfPrecisionOptions, ranges: [String: Float]?) throws -> (graph: Graph, layers: [HalfPrecisionLayer]) {
        let known = Set(graph.nodes.flatMap { [$0.name, $0.layer] })
        if let unknown = options.exclude.sorted().first(where: { !known.contains($0) }) {
            throw ModelPressError.invalidArgument("--exclude \(unknown): the model has no such layer (layers: \(Set(graph.nodes.map(\.layer)).sorted().joined(separator: ", "))).")
        }
        var reasons: [String: String] = [:]
        for node in graph.nodes {
            if let reason = reasonForFloat32(node, graph, options, ranges) { reasons[node.name] = reason }
        }
        var g = graph
        var half = Set<String>()
        for node in graph.nodes where reasons[node.name] == nil { half.formUnion(node.outputs) }
        let halfNodes = Set(graph.nodes.filter { reasons[$0.name] == nil }.map(\.name))
        for (name, tensor) in graph.initializers where fitsHalfPrecision(tensor) {
            let reads = floatReads(of: name, in: graph)
            guard !reads.isEmpty else { continue }
            if options.form == .weightsOnly || reads.allSatisfy(halfNodes.contains) { half.insert(name) }
        }
        g.halfPrecision = half
        if options.keepIOTypes {
            castOutputsToFloat32(&g)
        } else {
            for input in g.inputs where input.elementType == .float32 { g.halfPrecision.insert(input.name) }
        }
        let layers = graph.nodes.map { report($0, reasons[$0.name], g, ranges) }
        return (g, layers)
    }

    /// Why `node` stays float32, or nil when it computes in float16.
    static func reasonForFloat32(_ node: Node, _ graph: Graph, _ options: HalfPrecisionOptions, _ ranges: [String: Float]?) -> String? {
        let rule = node.op.definition.halfPrecision
        if let reason = rule.reasonForFloat32(opset: options.opset) { return reason }
        if options.exclude.contains(node.name) || options.exclude.contains(node.layer) { return "excluded (--exclude)" }
        if let allowed = options.allowedNodes, !allowed.contains(node.name) { return "int8 or float32 in the precision plan" }
        if options.form == .weightsOnly { return "fp16-weights: weights are stored float16, computation stays float32" }
        let floatInputs = node.inputs.indices.filter { !rule.indexInputs.contains($0) }.map { node.inputs[$0] }
        for name in floatInputs {
            guard let w = graph.initializers[name], !fitsHalfPrecision(w) else { continue }
            return "weight '\(name)' reaches \(largestMagnitude(w)), beyond float16's ±65504"
        }
        guard let ranges else { return nil }
        for name in floatInputs + node.outputs where graph.initializers[name] == nil {
            guard let seen = ranges[name], seen > options.activationLimit else { continue }
            return "value '\(name)' reaches \(seen) on the calibration data, beyond \(options.activationLimit) (65504 / headroom \(options.headroom))"
        }
        return nil
    }

    /// Nodes reading `name` as a float (not as ids), by name.
    static func floatReads(of name: String, in graph: Graph) -> [String] {
        graph.nodes.filter { node in
            let indices = node.op.definition.halfPrecision.indexInputs
            return node.inputs.indices.contains { node.inputs[$0] == name && !indices.contains($0) }
        }.map(\.name)
    }

    /// With float32 inputs and outputs kept: a graph output computed in float16 is written under
    /// `<name>/fp16` and copied to float32 by an Identity (the file's Cast).
    static func castOutputsToFloat32(_ g: inout Graph) {
        for output in g.outputs where g.halfPrecision.contains(output.name) {
            guard let written = g.copyThroughIdentity(output.name, suffix: "/fp16", readersFollow: true) else { continue }
            g.halfPrecision.remove(output.name)
            g.halfPrecision.insert(written)
        }
    }

    /// The report row of `node` in the planned graph `g`.
    static func report(_ node: Node, _ reason: String?, _ g: Graph, _ ranges: [String: Float]?) -> HalfPrecisionLayer {
        let indices = node.op.definition.halfPrecision.indexInputs
        let weights = node.inputs.indices.filter { !indices.contains($0) }.map { node.inputs[$0] }.compactMap { name in g.initializers[name].map { (name, $0) } }
        let halfWeights = weights.filter { g.halfPrecision.contains($0.0) }
        let outputs = node.outputs.compactMap { ranges?[$0] }
        return HalfPrecisionLayer(
            node: node.name, layer: node.layer, op: node.op.name,
            precision: reason == nil ? "fp16" : halfWeights.isEmpty ? "fp32" : "fp32, fp16 weights", reason: reason,
            parameters: weights.reduce(0) { $0 + $1.1.count },
            bytes: weights.reduce(0) { $0 + $1.1.count * g.storedBits(of: $1.0) / 8 },
            floatBytes: weights.reduce(0) { $0 + $1.1.count * 4 },
            maxAbsWeight: weights.map { largestMagnitude($0.1) }.max() ?? 0,
            flushedToZero: halfWeights.reduce(0) { sum, w in sum + w.1.storage.reduce(0) { $0 + ($1 != 0 && HalfPrecision.round($1) == 0 ? 1 : 0) } },
            maxAbsOutput: outputs.isEmpty ? nil : outputs.max())
    }

    /// Whether every element of `t` is finite in float16.
    static func fitsHalfPrecision(_ t: Tensor) -> Bool { largestMagnitude(t) <= HalfPrecision.largestFinite }

    /// The largest |element| of `t`.
    static func largestMagnitude(_ t: Tensor) -> Float { t.storage.reduce(0) { max($0, abs($1)) } }
}
