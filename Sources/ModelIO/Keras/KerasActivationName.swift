import TensorCore

/// Keras's activation names (the `activation` argument of Dense/Conv and of `Activation`).
public enum KerasActivationName {
    /// The names ModelPress maps, for error hints.
    public static let supported = "linear, relu, relu6, sigmoid, tanh, softmax, swish/silu, hard_sigmoid, hard_swish/hard_silu, gelu, elu, selu, softplus, softsign, exponential, leaky_relu"

    /// The element-wise activation named `name` (nil for `linear`, `softmax` and unknown names,
    /// which callers handle). Version difference: Keras 3 `hard_sigmoid` is `relu6(x + 3) / 6`,
    /// tf-keras 2.x's is `clip(0.2·x + 0.5, 0, 1)`; `leaky_relu` defaults to slope 0.2.
    public static func elementwise(_ name: String, kerasMajor: Int = 3) -> Activation? {
        switch name {
        case "relu": return .relu
        case "relu6": return .clip(min: 0, max: 6)
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "softplus": return .softplus
        case "softsign": return .softsign
        case "selu": return .selu
        case "elu": return .elu(alpha: 1)
        case "exponential": return .exponential
        case "swish", "silu": return .swish
        case "hard_swish", "hard_silu": return .hardSwish
        case "hard_sigmoid": return kerasMajor >= 3 ? .hardSigmoid(alpha: 1.0 / 6.0, beta: 0.5) : .hardSigmoid(alpha: 0.2, beta: 0.5)
        case "gelu": return .gelu(approximate: false)
        case "leaky_relu": return .leakyRelu(alpha: 0.2)
        default: return nil
        }
    }
}
