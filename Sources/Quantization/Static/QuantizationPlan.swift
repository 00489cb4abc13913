import TensorCore

/// Which values of a float graph static quantization annotates, decided from the graph alone
/// (before calibration): the compute nodes (Conv, Linear) with their weights and biases, the
/// activations they read and write, the inputs and outputs of Add / average pooling (and of
/// the ops `--quantize-ops` selects), and the ReLU / ReLU6 nodes whose clamping the output range
/// can absorb.
public struct QuantizationPlan: Sendable {
    /// A Conv or Linear node to run on int8 weights.
    public struct ComputeNode: Sendable {
        /// Index in `graph.nodes`.
        public var index: Int
        /// Weight initializer.
        public var weight: String
        /// Its output-channel axis (0 for OIHW, 1 for K×M).
        public var channelAxis: Int
        /// Bias initializer, if any.
        public var bias: String?
    }

    /// Compute nodes to quantize, in graph order.
    public var compute: [ComputeNode] = []
    /// Activations with their own calibrated range.
    public var calibrated: Set<String> = []
    /// Activation node index → value it clamps (a ReLU/ReLU6 right after a compute node).
    public var foldable: [Int: String] = [:]
    /// Nodes the user excluded that the plan would otherwise have quantized.
    public var excluded: [String] = []
    /// Calibrated activations that are not a planned Conv / Dense input or output (Add and
    /// pooling inputs / outputs): the values the accuracy budget can return to float one by
    /// one, in graph order.
    public var activationCandidates: [String] = []

    /// The plan for `graph` (prepared for inference) under `options`.
    public init(graph: Graph, options: StaticQuantizationOptions) {
        func isExcluded(_ node: Node) -> Bool { options.exclude.contains(node.name) || options.exclude.contains(node.layer) }
        var readers: [String: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for input in Set(node.inputs) where !input.isEmpty { readers[input, default: []].append(i) }
        }
        let outputs = Set(graph.outputs.map(\.name))
        // Folding needs an unsigned type: its clamp at zero point 0 is the ReLU. With signed
        // (symmetric) activations the compute output itself is calibrated and the ReLU keeps
        // its grid (relu of grid values is on the grid: zero is exact).
        let fold = !options.activations.isSigned
        /// The node's output, or the ReLU/ReLU6 output it feeds when that is its only reader
        /// (the activation is then folded into the range).
        func quantizedOutput(of node: Node) -> String {
            let out = node.output
            guard fold, let r = readers[out], r.count == 1, !outputs.contains(out), Self.isRelu(graph.nodes[r[0]].op),
                !isExcluded(graph.nodes[r[0]])
            else { return out }
            foldable[r[0]] = out
            return graph.nodes[r[0]].output
        }
        for (i, node) in graph.nodes.enumerated() {
            switch node.op.definition.quantizationRole {
            case .compute:
                guard let c = node.computeOperands, graph.initializers[c.weight] != nil, readers[c.weight]?.count == 1 else { continue }
                if let bias = c.bias, graph.initializers[bias] == nil || readers[bias]?.count != 1 { continue }
                if isExcluded(node) { excluded.append(node.name); continue }
                compute.append(ComputeNode(index: i, weight: c.weight, channelAxis: c.channelAxis, bias: c.bias))
                calibrated.insert(c.input)
                calibrated.insert(quantizedOutput(of: node))
            case .floatUnlessSelected where options.quantizeOps.contains(node.op.name), .requantized:
                if isExcluded(node) { excluded.append(node.name); continue }
                for input in node.inputs where graph.initializers[input] == nil { calibrated.insert(input) }
                calibrated.insert(quantizedOutput(of: node))
            case .transparent, .foldableClamp, .float, .floatUnlessSelected:
                continue
            }
        }
        // Activation-level fallback: the value stays float for every reader (a folded ReLU is
        // then kept as a node, its clamp no longer done by a quantizer).
        calibrated.subtract(options.floatValues)
        foldable = foldable.filter { !options.floatValues.contains(graph.nodes[$0.key].output) }
        var computeValues = Set<String>()
        for c in compute {
            let node = graph.nodes[c.index]
            computeValues.insert(node.inputs[0])
            computeValues.insert(node.output)
            if let r = readers[node.output], r.count == 1, foldable[r[0]] != nil { computeValues.insert(graph.nodes[r[0]].output) }
        }
        let order = Dictionary(graph.nodes.enumerated().map { ($0.element.output, $0.offset) }, uniquingKeysWith: { a, _ in a })
        activationCandidates = calibrated.subtracting(computeValues).subtracting(graph.inputs.map(\.name))
            .sorted { (order[$0] ?? -1, $0) < (order[$1] ?? -1, $1) }
    }

    /// ReLU, or a clip to `[0, hi]` (ReLU6 and friends): `QuantizationRole.foldableClamp`.
    static func isRelu(_ op: Op) -> Bool {
        if case .foldableClamp = op.definition.quantizationRole { return true }
        return false
    }

    /// The upper clamp of a foldable activation (∞ for ReLU).
    static func clampMax(_ op: Op) -> Float {
        if case .foldableClamp(let upper) = op.definition.quantizationRole { return upper }
        return .infinity
    }
}
