import TensorCore

/// The units of a sensitivity sweep on a folded graph, the layers left out, and how to prune
/// one unit alone at one level.
struct SensitivitySweep {
    /// The layers (or tied channel groups) to measure, in graph order, with no accuracy yet.
    private(set) var units: [PruningSensitivity.Unit] = []
    /// The layers that cannot be pruned, and why.
    private(set) var skipped: [PruningSensitivity.Skipped] = []
    /// `graph` with only `unit` pruned to `level`.
    let prune: (PruningSensitivity.Unit, Double) throws -> Graph

    /// Plans the sweep of `folded` (export passes already run); fails with `invalidArgument`
    /// on unknown names and on requested layers that cannot be pruned.
    init(_ folded: Graph, options: PruningSensitivityOptions) throws {
        let (exclude, layers) = (options.exclude, options.layers)
        func wanted(_ names: [String]) -> Bool {
            !names.contains { exclude.contains($0) } && (layers.isEmpty || names.contains { layers.contains($0) })
        }
        if options.structure == .channel {
            let groups = ChannelGroups(folded)
            let config = ChannelPruningConfiguration(sparsity: 0, only: layers.isEmpty ? nil : layers, criterion: options.criterion, exclude: exclude)
            // Checks the names (unknown → exit 2, an explicitly requested layer that cannot lose channels → exit 2).
            _ = try ChannelPruning(config).prune(folded)
            for g in groups.groups {
                let members = g.members.map { groups.sources[$0] }
                let name = members.map(\.layer).joined(separator: " + ")
                if let reason = g.reason { skipped.append(.init(name: name, reason: reason)); continue }
                guard wanted(members.flatMap { [$0.node, $0.layer] }) else { continue }
                let params = members.reduce(0) { $0 + (folded.initializers[$1.weight]?.count ?? 0) }
                units.append(.init(name: name, nodes: members.map(\.node), parameters: params, accuracy: []))
            }
            let (criterion, multiple) = (options.criterion, options.channelMultiple)
            prune = { unit, level in
                try ChannelPruning(.init(sparsity: level, only: [unit.nodes[0]], criterion: criterion, multiple: multiple)).prune(folded).0
            }
            return
        }
        let structure = options.structure.weightStructure ?? .unstructured
        let (kernels, unprunable) = PrunableKernel.candidates(in: folded)
        let known = Set(kernels.flatMap { [$0.node, $0.layer] })
        let unknown = (exclude + layers).filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw ModelPressError.invalidArgument("no prunable layer named \(unknown.map { "'\($0)'" }.joined(separator: ", ")).\nHINT: prunable layers: \(kernels.map(\.layer).joined(separator: ", ")).")
        }
        for u in unprunable { skipped.append(.init(name: u.layer, reason: u.reason)) }
        for k in kernels where wanted([k.node, k.layer]) {
            if structure == .twoOfFour, k.inputs % 4 != 0 {
                if !layers.isEmpty {
                    throw ModelPressError.invalidArgument("layer '\(k.layer)': input dimension \(k.inputs) is not a multiple of 4; 2:4 cannot apply.\nHINT: leave it out of --layers.")
                }
                skipped.append(.init(name: k.layer, reason: "input dimension \(k.inputs) is not a multiple of 4"))
                continue
            }
            // A recurrent layer's two kernels are one unit.
            if let u = units.firstIndex(where: { $0.nodes == [k.node] }) {
                units[u].parameters += k.count
            } else {
                units.append(.init(name: k.layer, nodes: [k.node], parameters: k.count, accuracy: []))
            }
        }
        let nodes = Array(Set(kernels.map(\.node)))
        let position = Dictionary(folded.nodes.enumerated().map { ($1.layer, $0) }, uniquingKeysWith: { a, _ in a })
        skipped.sort { (position[$0.name] ?? 0) < (position[$1.name] ?? 0) }
        prune = { unit, level in
            let others = nodes.filter { $0 != unit.nodes[0] }
            return try MagnitudePruning(PruningConfiguration(sparsity: level, structure: structure, exclude: others)).prune(folded).0
        }
    }
}
