import TensorCore

/// Folds a zero `Pad` of the two spatial axes (Keras ZeroPadding2D) into the convolution
/// that reads it: the convolution's own pads grow by the same amounts, which computes the
/// same values without materialising the padded tensor. Skipped when the padded value has
/// other readers or is a graph output, or the pad touches the batch or channel axis.
public struct FoldPadIntoConv: GraphPass {
    /// `fold-pad-into-conv`.
    public let name = "fold-pad-into-conv"

    /// The pass.
    public init() {}

    /// Folds every foldable Pad.
    public func run(_ graph: Graph) throws -> (Graph, PassReport) {
        var g = graph
        var report = PassReport(pass: name)
        var removed = Set<Int>()
        for i in g.nodes.indices {
            guard case .pad(let padding) = g.nodes[i].op, padding.pads.count == 8 else { continue }
            let pads = padding.pads
            let pad = g.nodes[i]
            let readers = g.readers(of: pad.output)
            guard pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
                report.skipped.append(.init(node: pad.name, reason: "it pads the batch or channel axis"))
                continue
            }
            guard readers.count == 1, g.readCount(of: pad.output) == 1, !g.isOutput(pad.output),
                case .conv2D(var attributes) = g.nodes[readers[0]].op, g.nodes[readers[0]].inputs[0] == pad.output
            else {
                report.skipped.append(.init(node: pad.name, reason: "its output is not read by exactly one convolution"))
                continue
            }
            // Pad order [n, c, top, left, n, c, bottom, right]; conv pads [top, left, bottom, right].
            attributes.pads = Padding2D(
                top: attributes.pads.top + pads[2], left: attributes.pads.left + pads[3],
                bottom: attributes.pads.bottom + pads[6], right: attributes.pads.right + pads[7])
            let conv = readers[0]
            g.nodes[conv].op = .conv2D(attributes)
            g.nodes[conv].inputs[0] = pad.inputs[0]
            removed.insert(i)
            report.changed.append("folded Pad '\(pad.name)' into Conv '\(g.nodes[conv].name)'")
        }
        g.removeNodes(removed)
        return (g, report)
    }
}
