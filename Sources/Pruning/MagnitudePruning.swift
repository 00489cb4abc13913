import Passes
import TensorCore

/// One-shot magnitude pruning of Dense and Conv kernels (see docs/pruning.md): unstructured
/// per layer or global, 2:4 along the input dimension, or blocks of outputs × inputs. Biases, BatchNorm parameters and
/// grouped/depthwise convs are left dense.
public struct MagnitudePruning: GraphPass {
    /// What to prune.
    public var configuration: PruningConfiguration

    /// A pass for `configuration`.
    public init(_ configuration: PruningConfiguration) {
        self.configuration = configuration
    }

    /// `magnitude-pruning`.
    public var name: String { "magnitude-pruning" }

    /// The pruned graph and a `PassReport` (one `changed` line per pruned kernel).
    public func run(_ graph: Graph) throws -> (Graph, PassReport) {
        let (pruned, report) = try prune(graph)
        var pass = PassReport(pass: name)
        for layer in report.layers {
            if let reason = layer.skipped {
                pass.skipped.append(.init(node: layer.node, reason: reason))
            } else {
                pass.changed.append("\(layer.node): \(layer.pruned) of \(layer.parameters) weights zeroed")
            }
        }
        return (pruned, pass)
    }

    /// The pruned graph and the per-layer report. Throws `invalidArgument` (exit 2) for a bad
    /// configuration, a quantized graph, or an `exclude` name that is no prunable kernel.
    public func prune(_ graph: Graph) throws -> (Graph, PruningReport) {
        let config = configuration
        try config.validate()
        guard graph.quantization.isEmpty else {
            throw ModelPressError.invalidArgument("the model is quantized; its weights cannot be pruned.\nHINT: prune the float model, then quantize the result.")
        }
        let (kernels, unprunable) = PrunableKernel.candidates(in: graph)
        try checkNames(config.exclude, option: "--exclude", kernels)
        try checkNames(config.perLayer.keys.sorted(), option: "--sparsity-per-layer", kernels)

        var skipped: [String: String] = [:]
        for k in kernels {
            if config.exclude.contains(k.node) || config.exclude.contains(k.layer) {
                skipped[k.weight] = "excluded (--exclude)"
            } else if k.count < config.minParameters {
                skipped[k.weight] = "\(k.count) weights < --min-params \(config.minParameters)"
            } else if !config.perLayer.isEmpty, !config.hasOwnTarget(k), config.sparsity == 0 {
                skipped[k.weight] = "not listed in --sparsity-per-layer"
            } else if config.structure == .twoOfFour, k.inputs % 4 != 0 {
                skipped[k.weight] = "input dimension \(k.inputs) is not a multiple of 4 (2:4 needs whole groups)"
            }
        }
        let active = kernels.filter { skipped[$0.weight] == nil }
        let removed = try removedIndices(active, graph)

        var out = graph
        var layers: [PruningReport.Layer] = []
        for k in kernels {
            guard var tensor = out.initializers[k.weight] else {
                throw ModelPressError.internalError("pruning: weight '\(k.weight)' disappeared")
            }
            let indices = removed[k.weight] ?? []
            for i in indices { tensor.storage[i] = 0 }
            out.initializers[k.weight] = tensor
            let nonzeros = tensor.storage.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            layers.append(
                .init(
                    node: k.node, layer: k.layer, op: k.op, weight: k.weight, shape: k.shape, parameters: k.count,
                    nonzeros: nonzeros, pruned: indices.count, sparsity: 1 - Double(nonzeros) / Double(k.count),
                    target: skipped[k.weight] == nil ? config.target(for: k) : nil, skipped: skipped[k.weight]))
        }
        for u in unprunable {
            let nonzeros = u.weights.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            let sparsity = u.weights.isEmpty ? 0 : 1 - Double(nonzeros) / Double(u.weights.count)
            layers.append(
                .init(
                    node: u.node, layer: u.layer, op: u.op, weight: u.weight, shape: u.shape, parameters: u.weights.count,
                    nonzeros: nonzeros, pruned: 0, sparsity: sparsity, target: nil, skipped: u.reason))
        }
        let position = Dictionary(graph.nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        layers.sort { (position[$0.node] ?? 0) < (position[$1.node] ?? 0) }
        let report = PruningReport(
            structure: config.structure.name, scope: config.scope.rawValue, targetSparsity: config.overallTarget, layers: layers)
        return (out, report)
    }

    /// Indices to zero, by weight name.
    private func removedIndices(_ active: [PrunableKernel], _ graph: Graph) throws -> [String: [Int]] {
        var weights: [[Float]] = []
        for k in active {
            guard let t = graph.initializers[k.weight], t.count == k.count else {
                throw ModelPressError.internalError("pruning: weight '\(k.weight)' does not match its shape")
            }
            weights.append(t.storage)
        }
        var removed: [String: [Int]] = [:]
        switch (configuration.structure, configuration.scope) {
        case (.twoOfFour, _):
            for (k, w) in zip(active, weights) {
                removed[k.weight] = MagnitudeMask.twoOfFour(w, outer: k.outer, inputs: k.inputs, inner: k.inner)
            }
        case (.unstructured, .global), (.block, .global), (.unstructured, .lamp), (.block, .lamp):
            // Kernels with their own target are pruned to it alone; the rest share one threshold.
            var pool: [(kernel: PrunableKernel, weights: [Float])] = []
            for (k, w) in zip(active, weights) {
                if configuration.hasOwnTarget(k) {
                    removed[k.weight] = layerIndices(k, w)
                } else {
                    pool.append((k, w))
                }
            }
            if case .block(let block) = configuration.structure {
                let pooled = MagnitudeMask.globalBlocks(
                    pool.map { ($0.weights, BlockGrid($0.kernel, block: block)) }, sparsity: configuration.sparsity, lamp: configuration.scope == .lamp)
                for (p, indices) in zip(pool, pooled) { removed[p.kernel.weight] = indices }
            } else {
                let total = pool.reduce(0) { $0 + $1.weights.count }
                let scores = configuration.scope == .lamp ? pool.map { MagnitudeMask.lampScores($0.weights) } : pool.map(\.weights)
                for (l, i) in MagnitudeMask.globalSmallest(MagnitudeMask.prunedCount(sparsity: configuration.sparsity, count: total), of: scores) {
                    removed[pool[l].kernel.weight, default: []].append(i)
                }
            }
        case (.unstructured, .layer), (.block, .layer):
            for (k, w) in zip(active, weights) { removed[k.weight] = layerIndices(k, w) }
        }
        return removed
    }

    /// The indices kernel `k` (weights `w`) loses at its own target.
    private func layerIndices(_ k: PrunableKernel, _ w: [Float]) -> [Int] {
        let target = configuration.target(for: k)
        if case .block(let block) = configuration.structure {
            return MagnitudeMask.blocks(w, grid: BlockGrid(k, block: block), sparsity: target)
        }
        return MagnitudeMask.smallest(MagnitudeMask.prunedCount(sparsity: target, count: w.count), of: w)
    }

    /// Every name given to `option` must be a prunable kernel's node or layer name.
    private func checkNames(_ given: [String], option: String, _ kernels: [PrunableKernel]) throws {
        let known = Set(kernels.flatMap { [$0.node, $0.layer] })
        let unknown = given.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            let names = kernels.map { $0.layer == $0.node ? $0.layer : "\($0.layer) (\($0.node))" }.joined(separator: ", ")
            throw ModelPressError.invalidArgument("\(option): no prunable layer named \(unknown.map { "'\($0)'" }.joined(separator: ", ")).\nHINT: prunable layers: \(names.isEmpty ? "none" : names).")
        }
    }
}
