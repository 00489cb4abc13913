/// Elementwise activation functions, with the exact formula each computes.
public enum Activation: Equatable, Hashable, Sendable {
    /// `max(x, 0)`
    case relu
    /// `1 / (1 + exp(-x))`
    case sigmoid
    /// `tanh(x)`
    case tanh
    /// `log(1 + exp(x))`
    case softplus
    /// `x / (1 + |x|)`
    case softsign
    /// `1.0507… · (x if x > 0 else 1.6733… · (exp(x) − 1))`
    case selu
    /// `x · sigmoid(x)` (Keras swish / silu)
    case swish
    /// `x · min(max(x + 3, 0), 6) / 6` (Keras 3 hard_silu / hard_swish)
    case hardSwish
    /// `exp(x)`
    case exponential
    /// `−x`
    case negate
    /// `√x` (NaN below 0, as ONNX `Sqrt`)
    case squareRoot
    /// `1 / x`
    case reciprocal
    /// `min(max(x, min), max)` (ReLU6 is `clip(0, 6)`)
    case clip(min: Float, max: Float)
    /// `x if x ≥ 0 else alpha · x`
    case leakyRelu(alpha: Float)
    /// `x if x > 0 else alpha · (exp(x) − 1)`
    case elu(alpha: Float)
    /// `max(0, min(1, alpha · x + beta))`
    case hardSigmoid(alpha: Float, beta: Float)
    /// `x · Φ(x)`, or the tanh approximation when `approximate`
    case gelu(approximate: Bool)
    /// Keras `ReLU(max_value, negative_slope, threshold)`:
    /// `min(max(x, 0), maxValue)` if x > threshold, else `negativeSlope · (x − threshold)`.
    case thresholdedLinear(threshold: Float, negativeSlope: Float, maxValue: Float?)
}
