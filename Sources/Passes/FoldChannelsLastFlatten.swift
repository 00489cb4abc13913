import TensorCore

/// Removes the NCHW→NHWC Transpose `[0, 2, 3, 1]` in front of a Flatten (a channels-last
/// flatten, as Keras computes it): when the transpose moves only size-1 axes it is dropped;
/// otherwise the rows of every Linear reading the flattened vector are permuted so that the
/// Flatten can read NCHW directly: row `(c·H + h)·W + w` takes old row `(h·W + w)·C + c`.
public struct FoldChannelsLastFlatten: GraphPass {
    /// `fold-channels-last-flatten`.
    public let name = "fold-channels-last-flatten"

    /// The pass.
    public init() {}

    /// Rewrites every foldable Transpose → Flatten → Linear chain.
    public func run(_ graph: Graph) throws -> (Graph, PassReport) {
        var g = graph
        var report = PassReport(pass: name)
        var removed = Set<Int>()
        for t in g.nodes.indices {
            let transpose = g.nodes[t]
            guard case .transpose(let op) = transpose.op, op.perm == [0, 2, 3, 1],
                let x = g.shapes[transpose.inputs[0]], x.count == 4
            else { continue }
            let readers = g.readers(of: transpose.output)
            guard readers.count == 1, !g.isOutput(transpose.output), let f = readers.first, isFlatten(g.nodes[f].op, g) else { continue }
            let (c, h, w) = (x[1], x[2], x[3])
            let flat = g.nodes[f].output
            if c == 1 || h * w == 1 {
                g.replaceReads(of: transpose.output, with: transpose.inputs[0])
                removed.insert(t)
                report.changed.append("dropped Transpose '\(transpose.name)': it moves only size-1 axes before Flatten '\(g.nodes[f].name)'")
                continue
            }
            let linears = g.readers(of: flat)
            let reason = refusal(g, flat: flat, linears: linears)
            if let reason {
                report.skipped.append(.init(node: transpose.name, reason: reason))
                continue
            }
            for l in linears {
                let weightName = g.nodes[l].inputs[1]
                guard let wt = g.initializers[weightName] else { continue }
                g.initializers[weightName] = try permuteRows(wt, c: c, h: h, w: w)
            }
            g.replaceReads(of: transpose.output, with: transpose.inputs[0])
            removed.insert(t)
            let names = linears.map { "'\(g.nodes[$0].name)'" }.joined(separator: ", ")
            report.changed.append("removed Transpose '\(transpose.name)' before Flatten '\(g.nodes[f].name)'; permuted the weight rows of \(names)")
        }
        g.removeNodes(removed)
        return (g, report)
    }

    private func isFlatten(_ op: Op, _ g: Graph) -> Bool {
        if case .flatten = op { return true }
        if case .reshape(let r) = op { return r.shape.count == 1 }
        return false
    }

    /// Why the Linear readers of the flattened value cannot absorb the permutation, or nil.
    private func refusal(_ g: Graph, flat: String, linears: [Int]) -> String? {
        if g.isOutput(flat) { return "the flattened value is a graph output" }
        if linears.isEmpty { return "the flattened value is not read" }
        for l in linears {
            let node = g.nodes[l]
            guard case .linear = node.op, node.inputs[0] == flat, !node.inputs.dropFirst().contains(flat) else {
                return "the flattened value is read by \(node.op.name) '\(node.name)', not only by Linear layers"
            }
            guard g.initializers[node.inputs[1]] != nil, g.readCount(of: node.inputs[1]) == 1 else {
                return "the weights of '\(node.name)' are not a constant of its own"
            }
        }
        return nil
    }

    /// Reorders the rows of a (C·H·W)×M weight from NHWC-flat to NCHW-flat order.
    private func permuteRows(_ wt: Tensor, c: Int, h: Int, w: Int) throws -> Tensor {
        let m = wt.shape[1]
        var out = wt
        for ch in 0..<c {
            for y in 0..<h {
                for x in 0..<w {
                    let dst = (ch * h + y) * w + x, src = (y * w + x) * c + ch
                    for k in 0..<m { out.storage[dst * m + k] = wt.storage[src * m + k] }
                }
            }
        }
        return out
    }
}
