import TensorCore

/// Declares image inputs channels-first: every rank-4 graph input becomes N×C×H×W. A
/// Transpose `[0, 2, 3, 1]` back to channels-last is put behind it, then cancelled against the
/// model's own NHWC→NCHW Transposes (`DropIdentities`) or folded into the weights of a
/// channels-last Flatten → Linear (`FoldChannelsLastFlatten`). When it cannot be removed so, the
/// pass fails naming the input and the reader: the model does not take channels-last images
/// into a channels-first computation, and an NCHW input would only add a runtime transpose.
public struct ChannelsFirstInput: GraphPass {
    /// `channels-first-input`.
    public let name = "channels-first-input"

    /// The pass.
    public init() {}

    /// Rewrites the image inputs, or throws `invalidArgument` saying why it cannot.
    public func run(_ graph: Graph) throws -> (Graph, PassReport) {
        var g = graph
        var report = PassReport(pass: name)
        var inserted: [(input: String, transpose: String, reader: Node)] = []
        for k in g.inputs.indices where g.inputs[k].shape.count == 4 {
            let input = g.inputs[k]
            let readers = g.readers(of: input.name)
            guard let firstReader = readers.first.map({ g.nodes[$0] }), !g.isOutput(input.name) else { continue }
            let nhwc = input.shape
            let nchw = [nhwc[0], nhwc[3], nhwc[1], nhwc[2]]
            let back = g.uniqueName(input.name + "/nhwc")
            g.replaceReads(of: input.name, with: back)
            g.nodes.insert(Node(name: back, op: .transpose([0, 2, 3, 1]), inputs: [input.name], output: back), at: 0)
            g.shapes[back] = nhwc
            g.inputs[k].shape = nchw
            g.shapes[input.name] = nchw
            let reader =
                readers.map { g.nodes[$0 + 1] }.first { node in
                    if case .transpose(let t) = node.op, t.perm == [0, 3, 1, 2] { return false }
                    return true
                } ?? firstReader
            inserted.append((input.name, back, reader))
        }
        guard !inserted.isEmpty else {
            throw ModelPressError.invalidArgument(
                """
                cannot declare an NCHW input: the model has no rank-4 (image) input.
                HINT: export with --input-layout nhwc (the default).
                """)
        }
        var families: [String: Set<String>] = [:]
        for entry in inserted { families[entry.transpose] = try SinkTranspose.sink(&g, from: entry.transpose) }
        var (simplified, _) = try DropIdentities().run(g)
        (simplified, _) = try FoldChannelsLastFlatten().run(simplified)
        for entry in inserted {
            let family = families[entry.transpose] ?? [entry.transpose]
            if let left = simplified.nodes.first(where: { family.contains($0.name) }) {
                let node = simplified.readers(of: left.output).first.map { simplified.nodes[$0] } ?? entry.reader
                throw ModelPressError.invalidArgument(
                    """
                    cannot declare input '\(entry.input)' \(Array(graph.inputs.first { $0.name == entry.input }?.shape.dropFirst() ?? [])) \
                    as NCHW without a runtime transpose: the model uses it channels-last up to \(node.op.name) '\(node.name)', \
                    which the transpose cannot be moved past (only activations, softmax, PRelu and elementwise ops with \
                    constants can), so it never meets an NHWC→NCHW Transpose or a channels-last Flatten into Dense layers.
                    HINT: export with --input-layout nhwc (the default) to keep the input as the model declares it.
                    """)
            }
            report.changed.append("input '\(entry.input)' is now N×C×H×W; its NHWC→NCHW transpose is gone")
        }
        return (simplified, report)
    }
}
