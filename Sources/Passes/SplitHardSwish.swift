import TensorCore

/// Rewrites each hard swish `x · min(max(x + 3, 0), 6) / 6` as `x · hardSigmoid(x)`: the same
/// values, with the gate as a value of its own. Static quantization runs it when the file it
/// writes spells a hard swish `HardSigmoid → Mul` (below opset 14), so that the gate, a tensor
/// of that file, gets a calibrated range as onnxruntime gives it (docs/quantization.md).
public struct SplitHardSwish: GraphPass {
    /// `split-hard-swish`.
    public let name = "split-hard-swish"

    /// The pass.
    public init() {}

    /// Splits every hard-swish activation node.
    public func run(_ graph: Graph) throws -> (Graph, PassReport) {
        var g = graph
        var report = PassReport(pass: name)
        var nodes: [Node] = []
        for node in g.nodes {
            guard case .activation(.hardSwish) = node.op else {
                nodes.append(node)
                continue
            }
            let gate = g.uniqueName(node.output + "/hard_sigmoid")
            g.shapes[gate] = g.shapes[node.inputs[0]]
            nodes.append(Node(name: gate, op: .activation(.hardSigmoid(alpha: 1.0 / 6.0, beta: 0.5)), inputs: node.inputs, output: gate, layer: node.layer))
            nodes.append(Node(name: node.name, op: .elementwise(.multiply), inputs: [node.inputs[0], gate], output: node.output, layer: node.layer))
            report.changed.append("split hard swish '\(node.name)' into x · hardSigmoid(x)")
        }
        g.nodes = nodes
        return (g, report)
    }
}
