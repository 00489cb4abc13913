import ONNXProto
import TensorCore

/// Activation lowerings. Activations with a standard op map onto it; the others become small
/// subgraphs of standard ops, chosen per opset (`lowerX_13` is valid from opset 13, `lowerX_20`
/// from 20, …). The importer recognises each subgraph (see `ONNXImporter+Patterns.swift`).
extension Activation: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { try b.lowerActivation(self, node, doc: b.layerDoc(node)) }
    /// Relu and Clip take 8-bit integers, but a clamp on the grid changes values: not moved.
    var lowersOnIntegers: Bool { false }
}

// Import: Relu, Sigmoid, … map one to one in the name table (ONNXImporter+Ops); the
// multi-node lowerings below are recognised in ONNXImporter+Patterns.
extension ONNXGraphBuilder {
    /// Lowers `.activation(f)` for `node`.
    mutating func lowerActivation(_ f: Activation, _ node: Node, doc: String) throws {
        let x = node.inputs[0]
        let shape = graph.shapes[node.output]
        func single(_ opType: String, _ attributes: [Onnx_AttributeProto] = [], inputs: [String]? = nil) {
            add(opType, name: node.name, inputs: inputs ?? [x], output: node.output, attributes: attributes, shape: shape, docString: doc)
        }
        switch f {
        case .relu: single("Relu")
        case .sigmoid: single("Sigmoid")
        case .tanh: single("Tanh")
        case .softplus: single("Softplus")
        case .softsign: single("Softsign")
        case .selu: single("Selu")
        case .exponential: single("Exp")
        case .negate: single("Neg")
        case .squareRoot: single("Sqrt")
        case .reciprocal: single("Reciprocal")
        case .leakyRelu(let alpha): single("LeakyRelu", [.float("alpha", alpha)])
        case .elu(let alpha): single("Elu", [.float("alpha", alpha)])
        case .hardSigmoid(let alpha, let beta): single("HardSigmoid", [.float("alpha", alpha), .float("beta", beta)])
        case .clip(let lo, let hi):
            let low = lo == -.infinity ? "" : scalar(node.name + "/min", lo)
            let high = hi == .infinity ? "" : scalar(node.name + "/max", hi)
            single("Clip", inputs: [x, low, high])
        case .swish: lowerSwish_13(node, doc: doc)
        case .hardSwish:
            if opset >= 14 { lowerHardSwish_14(node, doc: doc) } else { lowerHardSwish_13(node, doc: doc) }
        case .gelu(let approximate):
            if opset >= 20 {
                lowerGelu_20(node, approximate: approximate, doc: doc)
            } else if approximate {
                lowerGeluTanh_13(node, doc: doc)
            } else {
                lowerGelu_13(node, doc: doc)
            }
        case .thresholdedLinear(let threshold, let slope, let maxValue):
            lowerThresholdedLinear_13(node, threshold: threshold, slope: slope, maxValue: maxValue, doc: doc)
        }
    }

    /// An intermediate node `<node>/<role>` of the same shape as the IR node's output; returns its output.
    private mutating func step(
        _ node: Node, _ role: String, _ opType: String, _ inputs: [String],
        _ attributes: [Onnx_AttributeProto] = [], elemType: Int32 = ONNXDataType.float
    ) -> String {
        let name = fresh(node.name + "/" + role)
        add(opType, name: name, inputs: inputs, output: name, attributes: attributes, shape: graph.shapes[node.output], elemType: elemType)
        return name
    }

    /// The IR node's own (last) node.
    private mutating func finish(_ node: Node, _ opType: String, _ inputs: [String], doc: String) {
        add(opType, name: node.name, inputs: inputs, output: node.output, shape: graph.shapes[node.output], docString: doc)
    }

    /// swish: `Mul(x, Sigmoid(x))`.
    mutating func lowerSwish_13(_ node: Node, doc: String) {
        let x = node.inputs[0]
        let s = step(node, "sigmoid", "Sigmoid", [x])
        finish(node, "Mul", [x, s], doc: doc)
    }

    /// hard swish before opset 14: `Mul(x, HardSigmoid(x; α = 1/6, β = 1/2))`.
    mutating func lowerHardSwish_13(_ node: Node, doc: String) {
        let x = node.inputs[0]
        let g = step(node, "hard_sigmoid", "HardSigmoid", [x], [.float("alpha", ONNXConstants.oneSixth), .float("beta", 0.5)])
        finish(node, "Mul", [x, g], doc: doc)
    }

    /// hard swish from opset 14: `HardSwish`.
    mutating func lowerHardSwish_14(_ node: Node, doc: String) {
        finish(node, "HardSwish", [node.inputs[0]], doc: doc)
    }

    /// GELU from opset 20: `Gelu(approximate = "none" | "tanh")`.
    mutating func lowerGelu_20(_ node: Node, approximate: Bool, doc: String) {
        add(
            "Gelu", name: node.name, inputs: [node.inputs[0]], output: node.output,
            attributes: [.string("approximate", approximate ? "tanh" : "none")], shape: graph.shapes[node.output], docString: doc)
    }

    /// erf GELU before opset 20: `Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)` (PyTorch's form).
    mutating func lowerGelu_13(_ node: Node, doc: String) {
        let x = node.inputs[0]
        let d = step(node, "div", "Div", [x, scalar(node.name + "/sqrt2", ONNXConstants.sqrt2)])
        let e = step(node, "erf", "Erf", [d])
        let a = step(node, "add", "Add", [e, scalar(node.name + "/one", 1)])
        let m = step(node, "mul", "Mul", [x, a])
        finish(node, "Mul", [m, scalar(node.name + "/half", 0.5)], doc: doc)
    }

    /// tanh GELU before opset 20: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    mutating func lowerGeluTanh_13(_ node: Node, doc: String) {
        let x = node.inputs[0]
        let x2 = step(node, "square", "Mul", [x, x])
        let x3 = step(node, "cube", "Mul", [x2, x])
        let c = step(node, "cubic_term", "Mul", [x3, scalar(node.name + "/coefficient", ONNXConstants.geluCubic)])
        let inner = step(node, "inner", "Add", [x, c])
        let scaled = step(node, "scaled", "Mul", [inner, scalar(node.name + "/sqrt_2_over_pi", ONNXConstants.sqrt2OverPi)])
        let t = step(node, "tanh", "Tanh", [scaled])
        let a = step(node, "add", "Add", [t, scalar(node.name + "/one", 1)])
        let m = step(node, "mul", "Mul", [x, a])
        finish(node, "Mul", [m, scalar(node.name + "/half", 0.5)], doc: doc)
    }

    /// Keras ReLU(max_value, negative_slope, threshold):
    /// `Where(x > t, Clip(x, 0, max) or Relu(x), Mul(Sub(x, t), slope))`.
    mutating func lowerThresholdedLinear_13(_ node: Node, threshold: Float, slope: Float, maxValue: Float?, doc: String) {
        let x = node.inputs[0]
        let t = scalar(node.name + "/threshold", threshold)
        let above = step(node, "above_threshold", "Greater", [x, t], elemType: ONNXDataType.bool)
        let positive: String
        if let maxValue {
            positive = step(node, "clipped", "Clip", [x, scalar(node.name + "/zero", 0), scalar(node.name + "/max", maxValue)])
        } else {
            positive = step(node, "rectified", "Relu", [x])
        }
        let shifted = step(node, "shifted", "Sub", [x, t])
        let leak = step(node, "leak", "Mul", [shifted, scalar(node.name + "/slope", slope)])
        finish(node, "Where", [above, positive, leak], doc: doc)
    }
}

/// Constants the activation lowerings write and the importer recognises (float32, exactly).
enum ONNXConstants {
    static let sqrt2: Float = Float(2).squareRoot()
    static let sqrt2OverPi: Float = (2 / Float.pi).squareRoot()
    static let geluCubic: Float = 0.044715
    static let oneSixth: Float = 1 / 6

    /// Whether a file's `value` is `constant`: within `tolerance` in float32, or exactly its
    /// nearest float16 (a float16 file's constants).
    static func matches(_ value: Float, _ constant: Float, within tolerance: Float) -> Bool {
        abs(value - constant) < tolerance || value == HalfPrecision.round(constant)
    }
}
