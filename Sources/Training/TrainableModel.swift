import TensorCore

/// A single-input graph prepared for training: its output is logits (a final softmax is
/// stripped and kept aside), its trainable weights are listed in a fixed order, and dropout
/// points (absent from the inference IR) are attached by value name.
public struct TrainableModel: Sendable {
    /// The graph trained; `graph.outputs[0]` is the logits value (N×classes).
    public var graph: Graph
    /// Names of trainable initializers (conv/linear weights and biases, BN scale and bias,
    /// PReLU slopes), in node order, each once: the order every numeric loop uses.
    public let parameters: [String]
    /// Dropout applied in training mode to a value right after the node producing it: value name → rate.
    public var dropout: [String: Float]
    /// The softmax node stripped from the output, re-attached by `exportGraph()`.
    public let strippedSoftmax: Node?
    /// Keras BatchNormalization momentum for the running averages.
    public var batchNormMomentum: Float = 0.99
    /// Values fake-quantized in training forward passes (quantization-aware training): each is
    /// rounded onto its grid after the node computing it, and its gradient passes straight
    /// through where the value was inside the grid's range, zero where it was clipped.
    public var fakeQuantized: [String: TensorQuantization] = [:]

    /// Prepares `graph` (one input, one output). `source` names the model in errors.
    public init(graph: Graph, dropout: [String: Float] = [:], source: String = "") throws {
        guard graph.inputs.count == 1, graph.outputs.count == 1 else {
            throw ModelPressError.invalidModel(
                file: source, location: "graph", message: "has \(graph.inputs.count) inputs and \(graph.outputs.count) outputs",
                hint: "training needs a single-input, single-output classifier")
        }
        var g = graph
        var stripped: Node?
        if let last = g.nodes.last, last.output == g.outputs[0].name, case .softmax(let softmax) = last.op,
            let shape = g.shapes[last.output], softmax.axis == shape.count - 1, let input = last.inputs.first,
            let inputShape = g.shapes[input], g.nodes.dropLast().allSatisfy({ !$0.inputs.contains(last.output) })
        {
            g.nodes.removeLast()
            g.shapes[last.output] = nil
            g.outputs[0] = ValueInfo(name: input, shape: inputShape)
            stripped = last
        }
        var seen = Set<String>(), names: [String] = []
        for node in g.nodes {
            for p in node.op.definition.trainableInputs where p < node.inputs.count {
                let name = node.inputs[p]
                if g.initializers[name] != nil, seen.insert(name).inserted { names.append(name) }
            }
        }
        for value in dropout.keys.sorted() where g.shapes[value] == nil || !(0..<1).contains(dropout[value] ?? 0) {
            throw ModelPressError.invalidArgument("dropout on '\(value)': no such value, or rate outside [0, 1)")
        }
        self.graph = g
        self.parameters = names
        self.dropout = dropout
        self.strippedSoftmax = stripped
    }

    /// Number of output classes (last dimension of the logits).
    public var classes: Int { graph.outputs[0].shape.last ?? 0 }

    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + (graph.initializers[$1]?.count ?? 0) } }

    /// The graph to save: the trained weights with the stripped softmax re-attached.
    public func exportGraph() throws -> Graph {
        var g = graph
        if let softmax = strippedSoftmax {
            try g.append(softmax)
            g.outputs[0] = ValueInfo(name: softmax.output, shape: g.shapes[softmax.output] ?? g.outputs[0].shape)
        }
        return g
    }

    /// The current values of the trainable parameters, in `parameters` order.
    public func parameterValues() -> [Tensor] {
        parameters.compactMap { graph.initializers[$0] }
    }

    /// Replaces initializers (trainable weights and BN running statistics) by `values`.
    public mutating func setInitializers(_ values: [(String, Tensor)]) {
        for (name, tensor) in values { graph.initializers[name] = tensor }
    }
}
