import Engine
import Foundation
import TensorCore

/// Gradient of the elementwise activation `f` (formulas on `Activation`): `dx = dy · f′(x)`,
/// with `x` the activation's input (any shape, same as `dy`). At kinks the one-sided
/// derivative the forward branch selects is used (relu: 0 at x = 0).
public func activationBackward(_ f: Activation, x: Tensor, dy: Tensor) throws -> Tensor {
    var dx = try Tensor(shape: x.shape)
    x.storage.withUnsafeBufferPointer { xp in
        dy.storage.withUnsafeBufferPointer { gp in
            dx.storage.withUnsafeMutableBufferPointer { dp in
                for i in dp.indices { dp[i] = gp[i] * activationDerivative(f, xp[i]) }
            }
        }
    }
    return dx
}

/// `f′(v)` for one value.
@inline(__always)
func activationDerivative(_ f: Activation, _ v: Float) -> Float {
    switch f {
    case .relu: return v > 0 ? 1 : 0
    case .sigmoid: let s = logistic(v); return s * (1 - s)
    case .tanh: let t = Foundation.tanh(v); return 1 - t * t
    case .softplus: return logistic(v)
    case .softsign: let d = 1 + abs(v); return 1 / (d * d)
    case .selu:
        let scale: Float = 1.0507009873554804934193349852946, alpha: Float = 1.6732632423543772848170429916717
        return v > 0 ? scale : scale * alpha * exp(v)
    case .swish: let s = logistic(v); return s + v * s * (1 - s)
    case .hardSwish: return v <= -3 ? 0 : (v >= 3 ? 1 : (2 * v + 3) / 6)
    case .exponential: return exp(v)
    case .negate: return -1
    case .squareRoot: return 0.5 / v.squareRoot()
    case .reciprocal: return -1 / (v * v)
    case .clip(let lo, let hi): return v > lo && v < hi ? 1 : 0
    case .leakyRelu(let alpha): return v < 0 ? alpha : 1
    case .elu(let alpha): return v > 0 ? 1 : alpha * exp(v)
    case .hardSigmoid(let alpha, let beta): let u = alpha * v + beta; return u > 0 && u < 1 ? alpha : 0
    case .gelu(let approximate):
        if approximate {
            let k: Float = (2 / Float.pi).squareRoot(), c: Float = 0.044715
            let t = Foundation.tanh(k * (v + c * v * v * v))
            return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * c * v * v)
        }
        let cdf = 0.5 * (1 + erf(v / Float(2).squareRoot()))
        let pdf = exp(-0.5 * v * v) / (2 * Float.pi).squareRoot()
        return cdf + v * pdf
    case .thresholdedLinear(let threshold, let slope, let maxValue):
        guard v > threshold else { return slope }
        return v > 0 && v < (maxValue ?? .infinity) ? 1 : 0
    }
}

@inline(__always) func logistic(_ v: Float) -> Float { 1 / (1 + exp(-v)) }

/// Gradient of softmax along `axis` from its output `y`: `dx = y ⊙ (dy − Σ_axis dy ⊙ y)`.
public func softmaxBackward(y: Tensor, dy: Tensor, axis: Int) throws -> Tensor {
    let n = y.shape[axis]
    let outer = y.shape[..<axis].reduce(1, *), inner = y.shape[(axis + 1)...].reduce(1, *)
    var dx = try Tensor(shape: y.shape)
    y.storage.withUnsafeBufferPointer { yp in
        dy.storage.withUnsafeBufferPointer { gp in
            dx.storage.withUnsafeMutableBufferPointer { dp in
                for o in 0..<outer {
                    for i in 0..<inner {
                        let base = o * n * inner + i
                        var dot: Float = 0
                        for k in 0..<n { dot += yp[base + k * inner] * gp[base + k * inner] }
                        for k in 0..<n { dp[base + k * inner] = yp[base + k * inner] * (gp[base + k * inner] - dot) }
                    }
                }
            }
        }
    }
    return dx
}

/// Gradients of PReLU `y = x if x ≥ 0 else slope·x` (`slope` broadcast to x's per-sample
/// shape): `dx = dy` or `slope·dy`; `dslope` summed over the batch and broadcast axes.
public func preluBackward(x: Tensor, slope: Tensor, dy: Tensor) throws -> (dx: Tensor, dSlope: Tensor) {
    let sampleShape = Array(x.shape.dropFirst())
    let slopes = try broadcastTo(slope, sampleShape)
    let per = max(1, slopes.count)
    var dx = try Tensor(shape: x.shape), dFull = try Tensor(shape: sampleShape)
    x.storage.withUnsafeBufferPointer { xp in
        dy.storage.withUnsafeBufferPointer { gp in
            dx.storage.withUnsafeMutableBufferPointer { dp in
                dFull.storage.withUnsafeMutableBufferPointer { sp in
                    for i in xp.indices {
                        if xp[i] >= 0 {
                            dp[i] = gp[i]
                        } else {
                            dp[i] = gp[i] * slopes.storage[i % per]
                            sp[i % per] += gp[i] * xp[i]
                        }
                    }
                }
            }
        }
    }
    return (dx, try sumToShape(dFull, slope.shape))
}
