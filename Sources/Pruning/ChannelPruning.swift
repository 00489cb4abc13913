import TensorCore

/// Channel (filter) pruning with physical removal (docs/pruning.md, "Channel pruning"): in each
/// prunable group of Conv/Linear layers, the output channels with the smallest summed L1/L2
/// filter norm are deleted from the layers' weights and biases, and every reader follows
/// (BatchNorm parameters, PRelu slopes, depthwise convs, constants of elementwise ops, the
/// input slices of consuming Conv/Linear layers, Linear rows after a Flatten). Run it on a
/// graph after the export passes (BatchNorm folded), as `modelpress prune` does.
public struct ChannelPruning: Sendable {
    /// What to remove.
    public var configuration: ChannelPruningConfiguration

    /// A pruner for `configuration`.
    public init(_ configuration: ChannelPruningConfiguration) {
        self.configuration = configuration
    }

    /// The thinned graph and the report. Throws `invalidArgument` (exit 2) for a bad
    /// configuration, a quantized graph, an unknown layer name, or a layer requested explicitly
    /// (`only`, `perLayer`) whose channels cannot be removed.
    public func prune(_ graph: Graph) throws -> (Graph, ChannelPruningReport) {
        let config = configuration
        try config.validate()
        guard graph.quantization.isEmpty else {
            throw ModelPressError.invalidArgument("the model is quantized; its channels cannot be pruned.\nHINT: prune the float model, then quantize the result.")
        }
        let analysis = ChannelGroups(graph)
        let sources = analysis.sources
        let requested = try checkNames(graph, analysis)

        func named(_ s: ChannelSource, _ names: some Sequence<String>) -> String? {
            names.first { $0 == s.node || $0 == s.layer }
        }
        var keepBySource: [Int: [Int]] = [:]
        var groupReports: [ChannelPruningReport.Group] = []
        for group in analysis.groups {
            let members = group.members.map { sources[$0] }
            let channels = members[0].channels
            var report = ChannelPruningReport.Group(
                nodes: members.map(\.node), channelsBefore: channels, channelsAfter: channels,
                sparsity: 0, removed: [], skipped: group.reason)
            defer { groupReports.append(report) }
            if let reason = group.reason {
                if let name = members.lazy.compactMap({ named($0, requested) }).first {
                    throw ModelPressError.invalidArgument("layer '\(name)': its output channels cannot be removed: \(reason).\nHINT: choose another layer, or leave it out.")
                }
                continue
            }
            if let excluded = members.lazy.compactMap({ named($0, config.exclude) }).first {
                report.skipped = members.count == 1 ? "excluded (--exclude)" : "tied to excluded layer '\(excluded)'"
                continue
            }
            if let only = config.only, !members.contains(where: { named($0, only) != nil }) {
                report.skipped = "not selected"
                continue
            }
            let explicit = members.compactMap { s in named(s, config.perLayer.keys).flatMap { config.perLayer[$0] } }
            let sparsity = explicit.min() ?? config.sparsity
            let k = ChannelPruningConfiguration.removedCount(sparsity: sparsity, count: channels, multiple: config.multiple)
            report.sparsity = sparsity
            guard k > 0 else { continue }
            var score = [Double](repeating: 0, count: channels)
            for s in members {
                guard let w = graph.initializers[s.weight] else { throw ModelPressError.internalError("channel pruning: '\(s.weight)' vanished") }
                for (c, n) in ChannelSlicing.norms(w, outputAxis: s.weightAxis, criterion: config.criterion).enumerated() { score[c] += n }
            }
            let order = score.indices.sorted { a, b in
                let (sa, sb) = (score[a].isNaN ? .infinity : score[a], score[b].isNaN ? .infinity : score[b])
                return sa != sb ? sa < sb : a < b
            }
            let removed = Set(order.prefix(k))
            let keep = (0..<channels).filter { !removed.contains($0) }
            for m in group.members { keepBySource[m] = keep }
            report.removed = removed.sorted()
            report.channelsAfter = keep.count
        }

        let thinned = try ChannelRewrite.apply(graph, sources: sources, keep: keepBySource)
        let report = Self.report(
            before: graph, after: thinned, analysis: analysis, keep: keepBySource,
            groups: groupReports, configuration: config)
        return (thinned, report)
    }

    /// Checks every name in `exclude`, `only` and `perLayer`; returns the explicitly requested ones.
    private func checkNames(_ graph: Graph, _ analysis: ChannelGroups) throws -> [String] {
        var known = Set<String>()
        for node in graph.nodes {
            if node.computeOperands != nil { known.formUnion([node.name, node.layer]) }
        }
        let requested = (configuration.only ?? []) + configuration.perLayer.keys.sorted()
        let unknown = (configuration.exclude + requested).filter { !known.contains($0) }
        guard unknown.isEmpty else {
            let names = analysis.sources.map(\.layer).joined(separator: ", ")
            throw ModelPressError.invalidArgument("no Conv/Dense layer named \(unknown.map { "'\($0)'" }.joined(separator: ", ")).\nHINT: layers whose channels can be pruned: \(names.isEmpty ? "none" : names).")
        }
        for name in requested {
            if let u = analysis.unprunable.first(where: { $0.node == name || $0.layer == name }),
                !analysis.sources.contains(where: { $0.node == name || $0.layer == name })
            {
                throw ModelPressError.invalidArgument("layer '\(name)': its output channels cannot be removed: \(u.reason).\nHINT: choose another layer, or leave it out.")
            }
        }
        return requested
    }

    /// Per-node counts before and after.
    static func report(
        before: Graph, after: Graph, analysis: ChannelGroups, keep: [Int: [Int]],
        groups: [ChannelPruningReport.Group], configuration: ChannelPruningConfiguration
    ) -> ChannelPruningReport {
        let statsBefore = before.statistics(), statsAfter = Dictionary(after.statistics().map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        let sourceByNode = Dictionary(analysis.sources.enumerated().map { ($1.node, $0) }, uniquingKeysWith: { a, _ in a })
        let unprunable = Dictionary(analysis.unprunable.map { ($0.node, $0.reason) }, uniquingKeysWith: { a, _ in a })
        func dims(_ g: Graph, _ node: Node) -> (inputs: Int, outputs: Int) {
            guard node.inputs.count >= 2, let w = g.shapes[node.inputs[1]] else { return (0, 0) }
            if case .conv2D(let a) = node.op, w.count == 4 { return (w[1] * a.group, w[0]) }
            return w.count == 2 ? (w[0], w[1]) : (0, 0)
        }
        var layers: [ChannelPruningReport.Layer] = []
        let afterNodes = Dictionary(after.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (node, stat) in zip(before.nodes, statsBefore) {
            guard node.computeOperands != nil else { continue }
            let b = dims(before, node)
            let a = afterNodes[node.name].map { dims(after, $0) } ?? b
            let s = statsAfter[node.name]
            let group = sourceByNode[node.name].map { analysis.groupOf[$0] }
            let inputsSliced = a.inputs != b.inputs
            var status: String
            if let si = sourceByNode[node.name], keep[si] != nil {
                status = "pruned"
            } else if let g = group {
                status = groups[g].skipped ?? (groups[g].sparsity == 0 ? "not pruned (sparsity 0)" : "no channel removed (round(S·C) = 0)")
            } else if case .conv2D(let attributes) = node.op, attributes.group > 1, inputsSliced {
                status = "follows its input's channels (depthwise)"
            } else {
                status = unprunable[node.name] ?? "unchanged"
            }
            if inputsSliced, status != "pruned", !status.hasPrefix("follows") {
                status = "inputs sliced; outputs kept: \(status)"
            }
            layers.append(
                .init(
                    node: node.name, layer: node.layer, op: node.op.name, inputsBefore: b.inputs, inputsAfter: a.inputs,
                    channelsBefore: b.outputs, channelsAfter: a.outputs, parametersBefore: stat.parameters,
                    parametersAfter: s?.parameters ?? stat.parameters, macsBefore: stat.macs, macsAfter: s?.macs ?? stat.macs,
                    group: group, status: status))
        }
        let total = { (g: Graph) -> (Int, Int) in
            (g.initializers.values.reduce(0) { $0 + $1.count }, g.statistics().reduce(0) { $0 + $1.macs })
        }
        let (pb, mb) = total(before), (pa, ma) = total(after)
        return ChannelPruningReport(
            criterion: configuration.criterion.rawValue, targetSparsity: configuration.sparsity, layers: layers,
            groups: groups, parametersBefore: pb, parametersAfter: pa, macsBefore: mb, macsAfter: ma)
    }
}
