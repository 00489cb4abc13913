import TensorCore

/// Attention-head pruning with physical removal (docs/pruning.md, "Attention heads"): in each
/// attention block (`AttentionHeads`), the heads with the smallest summed L1 norm of their
/// query, key and value columns and output rows are deleted — those columns and rows go from
/// the weights and biases, and the reshapes that name the head count follow — as NNI's
/// Transformer head pruning does. Run it on a graph after the export passes.
public struct HeadPruning: Sendable {
    /// Fraction of each block's heads to remove (at least one head stays).
    public var sparsity: Double
    /// Blocks to leave alone, by the output projection's node or layer name.
    public var exclude: Set<String>

    /// A pruner removing `sparsity` of the heads of every block not in `exclude`.
    public init(sparsity: Double, exclude: Set<String> = []) {
        self.sparsity = sparsity
        self.exclude = exclude
    }

    /// The thinned graph and the report; `invalidArgument` (exit 2) when the graph has no
    /// attention block whose heads can be removed.
    public func prune(_ graph: Graph) throws -> (Graph, HeadPruningReport) {
        guard (0..<1).contains(sparsity) else { throw ModelPressError.invalidArgument("--sparsity must be in [0, 1) for head pruning, not \(sparsity).") }
        let blocks = AttentionHeads.find(in: graph)
        guard !blocks.isEmpty else {
            throw ModelPressError.invalidArgument(
                "the model has no attention block whose heads ModelPress can remove (query/key/value projections split into heads, "
                    + "a softmax over their product, an output projection).\nHINT: use --structure channel for Dense and Conv layers.")
        }
        var g = graph
        var report = HeadPruningReport(targetSparsity: sparsity, blocks: [])
        let before = graph.statistics()
        for block in blocks {
            let output = graph.nodes[block.output]
            let removed = Int((Double(block.heads) * sparsity).rounded())
            let excluded = exclude.contains(output.name) || exclude.contains(output.layer)
            let keep = removed == 0 || excluded ? Array(0..<block.heads) : try kept(block, graph, count: max(1, block.heads - removed))
            report.blocks.append(
                .init(
                    output: output.name, layer: output.layer, outputWeight: output.inputs[1], headsBefore: block.heads, kept: keep,
                    keySize: block.keySize, valueSize: block.valueSize))
            guard keep.count < block.heads else { continue }
            try remove(block, keeping: keep, from: &g)
        }
        let pruned = try g.rebuilt(nodes: g.nodes, initializers: g.initializers)
        let after = pruned.statistics()
        report.parametersBefore = before.reduce(0) { $0 + $1.parameters }
        report.parametersAfter = after.reduce(0) { $0 + $1.parameters }
        report.macsBefore = before.reduce(0) { $0 + $1.macs }
        report.macsAfter = after.reduce(0) { $0 + $1.macs }
        return (pruned, report)
    }

    /// The `count` heads with the largest L1 norm over their query, key and value columns and
    /// output rows, ascending (ties keep the lower index).
    private func kept(_ block: AttentionHeads, _ graph: Graph, count: Int) throws -> [Int] {
        func weight(_ node: Int) throws -> Tensor {
            guard let w = graph.initializers[graph.nodes[node].inputs[1]] else { throw ModelPressError.internalError("head pruning: no weight for '\(graph.nodes[node].name)'") }
            return w
        }
        var norms = [Double](repeating: 0, count: block.heads)
        for (node, size) in [(block.query, block.keySize), (block.key, block.keySize), (block.value, block.valueSize)] {
            let w = try weight(node), columns = w.shape[1]
            for (i, x) in w.storage.enumerated() { norms[(i % columns) / size] += Double(abs(x)) }
        }
        let wo = try weight(block.output), columns = wo.shape[1]
        for (i, x) in wo.storage.enumerated() { norms[(i / columns) / block.valueSize] += Double(abs(x)) }
        let ranked = (0..<block.heads).sorted { norms[$0] != norms[$1] ? norms[$0] > norms[$1] : $0 < $1 }
        return Array(ranked.prefix(count)).sorted()
    }

    /// Slices the block's weights to the `keep` heads and rewrites its reshapes.
    private func remove(_ block: AttentionHeads, keeping keep: [Int], from g: inout Graph) throws {
        func columns(_ size: Int) -> [Int] { keep.flatMap { ($0 * size)..<(($0 + 1) * size) } }
        for (node, size) in [(block.query, block.keySize), (block.key, block.keySize), (block.value, block.valueSize)] {
            try slice(&g, node: node, input: 1, axis: 1, columns(size))
            if g.nodes[node].inputs.count > 2 { try slice(&g, node: node, input: 2, axis: 0, columns(size)) }
        }
        try slice(&g, node: block.output, input: 1, axis: 0, columns(block.valueSize))
        for reshape in block.reshapes {
            guard case .reshape(var r) = g.nodes[reshape.node].op else { continue }
            r.shape[reshape.axis] = reshape.merge ? keep.count * block.valueSize : keep.count
            g.nodes[reshape.node].op = .reshape(r)
        }
    }

    /// Replaces input `input` of node `node` (a constant) by its slice along `axis`; a constant
    /// other nodes read too is copied under a new name.
    private func slice(_ g: inout Graph, node: Int, input: Int, axis: Int, _ keep: [Int]) throws {
        let name = g.nodes[node].inputs[input]
        guard let t = g.initializers[name] else { throw ModelPressError.internalError("head pruning: '\(name)' is not a constant") }
        let sliced = try ChannelSlicing.keep(t, axis: axis, keep)
        let shared = g.nodes.enumerated().contains { $0.offset != node && $0.element.inputs.contains(name) }
        let target = shared ? g.uniqueName(name + "/pruned") : name
        g.initializers[target] = sliced
        g.nodes[node].inputs[input] = target
    }

}

/// What head pruning did: per attention block, the heads kept; parameters and MACs before and after.
public struct HeadPruningReport: Equatable, Sendable, Encodable {
    /// One attention block.
    public struct Block: Equatable, Sendable, Encodable {
        /// The output projection's node, its layer, and its weight (rows in `headsBefore` blocks of `valueSize`).
        public var output: String
        /// The layer the block belongs to.
        public var layer: String
        /// The output projection's weight (input name of the IR node; the same name in ONNX).
        public var outputWeight: String
        /// Heads before.
        public var headsBefore: Int
        /// Indices of the heads kept (original numbering, ascending).
        public var kept: [Int]
        /// Size of each head's query / key block and of its value block.
        public var keySize: Int
        /// Size of each head's value block.
        public var valueSize: Int
    }

    /// The fraction of heads asked to go.
    public var targetSparsity: Double
    /// Every attention block found, in node order.
    public var blocks: [Block]
    /// Parameters of the whole graph before and after.
    public var parametersBefore = 0
    /// Parameters after.
    public var parametersAfter = 0
    /// Multiply-accumulates per sample before and after.
    public var macsBefore = 0
    /// MACs after.
    public var macsAfter = 0
}
