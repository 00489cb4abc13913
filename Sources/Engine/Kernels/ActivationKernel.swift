import Foundation
import TensorCore

/// Applies `f` elementwise (any shape); the formulas are those documented on `Activation`.
public func applyActivation(_ f: Activation, _ x: Tensor) -> Tensor {
    var y = x
    applyActivation(f, &y)
    return y
}

/// Applies `f` elementwise to `x` in place.
public func applyActivation(_ f: Activation, _ y: inout Tensor) {
    y.storage.withUnsafeMutableBufferPointer { applyActivation(f, $0) }
}

/// Applies `f` elementwise to the floats of `p` in place.
public func applyActivation(_ f: Activation, _ p: UnsafeMutableBufferPointer<Float>) {
    do {
        switch f {
        case .relu: for i in p.indices { p[i] = max(p[i], 0) }
        case .sigmoid: for i in p.indices { p[i] = sigmoid(p[i]) }
        case .tanh: for i in p.indices { p[i] = Foundation.tanh(p[i]) }
        case .softplus: for i in p.indices { p[i] = softplus(p[i]) }
        case .softsign: for i in p.indices { p[i] = p[i] / (1 + abs(p[i])) }
        case .selu:
            let scale: Float = 1.0507009873554804934193349852946, alpha: Float = 1.6732632423543772848170429916717
            for i in p.indices { p[i] = p[i] > 0 ? scale * p[i] : scale * alpha * expm1(p[i]) }
        case .swish: for i in p.indices { p[i] = p[i] * sigmoid(p[i]) }
        case .hardSwish: for i in p.indices { p[i] = p[i] * min(max(p[i] + 3, 0), 6) / 6 }
        case .exponential: for i in p.indices { p[i] = exp(p[i]) }
        case .negate: for i in p.indices { p[i] = -p[i] }
        case .squareRoot: for i in p.indices { p[i] = p[i].squareRoot() }
        case .reciprocal: for i in p.indices { p[i] = 1 / p[i] }
        case .clip(let lo, let hi): for i in p.indices { p[i] = min(max(p[i], lo), hi) }
        case .leakyRelu(let alpha): for i in p.indices where p[i] < 0 { p[i] *= alpha }
        case .elu(let alpha): for i in p.indices where p[i] <= 0 { p[i] = alpha * expm1(p[i]) }
        case .hardSigmoid(let alpha, let beta): for i in p.indices { p[i] = min(max(alpha * p[i] + beta, 0), 1) }
        case .gelu(let approximate):
            if approximate {
                let k: Float = (2 / Float.pi).squareRoot()
                for i in p.indices { let v = p[i]; p[i] = 0.5 * v * (1 + Foundation.tanh(k * (v + 0.044715 * v * v * v))) }
            } else {
                let invSqrt2: Float = 1 / Float(2).squareRoot()
                for i in p.indices { p[i] = 0.5 * p[i] * (1 + erf(p[i] * invSqrt2)) }
            }
        case .thresholdedLinear(let threshold, let slope, let maxValue):
            let hi = maxValue ?? .infinity
            for i in p.indices {
                let v = p[i]
                p[i] = v > threshold ? min(max(v, 0), hi) : slope * (v - threshold)
            }
        }
    }
}

@inline(__always) func sigmoid(_ v: Float) -> Float { 1 / (1 + exp(-v)) }

/// `log(1 + exp(v))` without overflow for large `v`.
@inline(__always) func softplus(_ v: Float) -> Float { v > 20 ? v : log1p(exp(v)) }
