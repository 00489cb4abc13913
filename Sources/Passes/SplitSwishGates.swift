import TensorCore

/// Rewrites each swish `x · sigmoid(x)` (and, when `hardSwish`, each hard swish
/// `x · min(max(x + 3, 0), 6) / 6`) as `x · gate(x)`: the same values, with the gate a value of
/// its own. Static quantization runs it where the file it writes spells the activation
/// `Sigmoid → Mul` (swish, at every opset) or `HardSigmoid → Mul` (hard swish below opset 14),
/// so that the gate, a tensor of that file, gets a calibrated range as onnxruntime gives it
/// (docs/quantization.md).
public struct SplitSwishGates: GraphPass {
    /// `split-swish-gates`.
    public let name = "split-swish-gates"
    /// Whether hard swishes are split too.
    public var hardSwish: Bool

    /// The pass; hard swishes are split when `hardSwish`.
    public init(hardSwish: Bool) { self.hardSwish = hardSwish }

    /// Splits every swish (and hard-swish) activation node.
    public func run(_ graph: Graph) throws -> (Graph, PassReport) {
        var g = graph
        var report = PassReport(pass: name)
        var nodes: [Node] = []
        for node in g.nodes {
            let gate: Activation
            switch node.op {
            case .activation(.swish): gate = .sigmoid
            case .activation(.hardSwish) where hardSwish: gate = .hardSigmoid(alpha: 1.0 / 6.0, beta: 0.5)
            default:
                nodes.append(node)
                continue
            }
            let gateName = g.uniqueName(node.output + "/gate")
            g.shapes[gateName] = g.shapes[node.inputs[0]]
            nodes.append(Node(name: gateName, op: .activation(gate), inputs: node.inputs, output: gateName, layer: node.layer))
            nodes.append(Node(name: node.name, op: .elementwise(.multiply), inputs: [node.inputs[0], gateName], output: node.output, layer: node.layer))
            report.changed.append("split '\(node.name)' into x · \(gate.shortName)(x)")
        }
        g.nodes = nodes
        return (g, report)
    }
}
