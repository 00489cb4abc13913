import TensorCore

/// Removes Identity nodes and pairs of Transposes that undo each other, rewiring readers to
/// the original value. An Identity that copies a graph input straight to a graph output stays,
/// and so does one between float16 and float32 (`Graph.halfPrecision`): it is a Cast.
public struct DropIdentities: GraphPass {
    /// `drop-identities`.
    public let name = "drop-identities"

    /// The pass.
    public init() {}

    /// Drops every removable identity.
    public func run(_ graph: Graph) throws -> (Graph, PassReport) {
        var g = graph
        var report = PassReport(pass: name)
        var removed = Set<Int>()
        for i in g.nodes.indices {
            let node = g.nodes[i]
            switch node.op {
            case .identity where g.halfPrecision.contains(node.inputs[0]) != g.halfPrecision.contains(node.output):
                report.skipped.append(.init(node: node.name, reason: "it moves a value between float16 and float32 (a Cast)"))
            case .identity:
                if bypass(&g, node, source: node.inputs[0]) {
                    removed.insert(i)
                    report.changed.append("dropped Identity '\(node.name)'")
                } else {
                    report.skipped.append(.init(node: node.name, reason: "it copies a value that is also a graph input or output"))
                }
            case .reshape where g.shapes[node.inputs[0]] == g.shapes[node.output]:
                if bypass(&g, node, source: node.inputs[0]) {
                    removed.insert(i)
                    report.changed.append("dropped Reshape '\(node.name)': it keeps the shape")
                }
            case .transpose(let t) where keepsDataOrder(t.perm, g.shapes[node.inputs[0]] ?? []) && feedsReshapesOnly(g, node):
                g.replaceReads(of: node.output, with: node.inputs[0])
                removed.insert(i)
                report.changed.append("dropped Transpose '\(node.name)': it moves only size-1 axes before a reshape")
            case .transpose(let t):
                guard let p = g.producer(of: node.inputs[0]), !removed.contains(p),
                    case .transpose(let first) = g.nodes[p].op,
                    t.perm.map({ first.perm[$0] }) == Array(0..<t.perm.count)
                else { continue }
                guard !g.isOutput(node.output) else {
                    report.skipped.append(.init(node: node.name, reason: "it undoes '\(g.nodes[p].name)' but its output is a graph output"))
                    continue
                }
                g.replaceReads(of: node.output, with: g.nodes[p].inputs[0])
                removed.insert(i)
                report.changed.append("dropped Transpose '\(node.name)': it undoes Transpose '\(g.nodes[p].name)'")
                let firstOutput = g.nodes[p].output
                let stillRead = g.nodes.indices.contains { !removed.contains($0) && g.nodes[$0].inputs.contains(firstOutput) }
                if !stillRead, !g.isOutput(firstOutput) { removed.insert(p) }
            case .reshape, .conv2D, .convTranspose2D, .linear, .batchNormalization, .activation, .prelu, .softmax, .maxPool2D, .averagePool2D,
                .globalAveragePool, .globalMaxPool, .flatten, .elementwise, .concat, .pad, .slice, .upsampleNearest, .resizeBilinear, .split,
                .layerNormalization, .reduceMean, .tile, .embedding, .recurrent, .reverse, .matMul, .expandBatch, .stepMask:
                continue
            }
        }
        g.removeNodes(removed)
        return (g, report)
    }

    /// Whether transposing a tensor of `shape` by `perm` keeps its elements in the same row-major order.
    private func keepsDataOrder(_ perm: [Int], _ shape: [Int]) -> Bool {
        guard perm.count == shape.count else { return false }
        let moved = perm.filter { shape[$0] != 1 }
        return moved == moved.sorted()
    }

    /// Whether every reader of `node`'s output is a Flatten or Reshape (which ignore the axes) and it is no graph output.
    private func feedsReshapesOnly(_ g: Graph, _ node: Node) -> Bool {
        let readers = g.readers(of: node.output)
        return !readers.isEmpty && !g.isOutput(node.output)
            && readers.allSatisfy { r in
                isReshape(g.nodes[r].op) && g.nodes[r].inputs == [node.output]
            }
    }

    /// Flatten or Reshape: ops that read only the row-major order of their input.
    private func isReshape(_ op: Op) -> Bool {
        if case .flatten = op { return true }
        if case .reshape = op { return true }
        return false
    }

    /// Makes readers of `node`'s output read `source`; when the output is a graph output the
    /// producer of `source` is renamed instead (if it has no other readers). False: not possible.
    private func bypass(_ g: inout Graph, _ node: Node, source: String) -> Bool {
        guard g.isOutput(node.output) else {
            g.replaceReads(of: node.output, with: source)
            return true
        }
        guard let p = g.producer(of: source), g.readCount(of: source) == 1, !g.isOutput(source) else { return false }
        g.shapes[source] = nil
        g.nodes[p].output = node.output
        return true
    }
}
