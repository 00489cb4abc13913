extension Activation: OpDefinition {
    public var name: String { "Activation(\(shortName))" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .passThrough(blocked: .none, perChannel: [], reason: "") }
    /// ReLU and clips to `[0, hi]` fold into the range of the value they read.
    public var quantizationRole: QuantizationRole {
        switch self {
        case .relu: return .foldableClamp(upper: .infinity)
        case .clip(let lo, let hi) where lo == 0 && hi > 0: return .foldableClamp(upper: hi)
        // Gates in [0, 1] get their own calibrated range, as onnxruntime quantizes them: measured
        // on Keras 3 MobileNetV3Large (docs/coverage.md), leaving them float loses 4 dB at the logits.
        case .hardSigmoid, .sigmoid: return .requantized
        case .tanh, .softplus, .softsign, .selu, .swish, .hardSwish, .exponential, .negate, .squareRoot, .reciprocal, .clip, .leakyRelu, .elu,
            .gelu, .thresholdedLinear:
            return .float
        }
    }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] { [try check.input(inputs, 0)] }
    /// Not counted (elementwise).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }

    /// A short name for tables.
    public var shortName: String {
        switch self {
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softplus: return "softplus"
        case .softsign: return "softsign"
        case .selu: return "selu"
        case .swish: return "swish"
        case .hardSwish: return "hard_swish"
        case .exponential: return "exp"
        case .negate: return "neg"
        case .squareRoot: return "sqrt"
        case .reciprocal: return "reciprocal"
        case .clip(let lo, let hi): return "clip[\(lo),\(hi)]"
        case .leakyRelu: return "leaky_relu"
        case .elu: return "elu"
        case .hardSigmoid: return "hard_sigmoid"
        case .gelu(let approximate): return approximate ? "gelu_tanh" : "gelu"
        case .thresholdedLinear: return "relu*"
        }
    }
}
