import TensorCore

/// What the training-mode batch normalization forward pass keeps for its backward pass.
public struct BatchNormCache: Sendable {
    /// `(x − μ_B) / sqrt(σ²_B + ε)`, the shape of x (N×C×…).
    public var normalized: [Float]
    /// `1 / sqrt(σ²_B + ε)` per channel.
    public var inverseStd: [Float]
    /// Batch mean per channel.
    public var mean: [Float]
    /// Batch variance per channel (biased, as Keras 3 `ops.moments`).
    public var variance: [Float]
}

/// Training-mode batch normalization over axis 1 of `x` (N×C×…): statistics of the batch
/// (over N and the spatial axes), `y = γ · (x − μ_B)/sqrt(σ²_B + ε) + β`. Sums in Double.
public func batchNormTrainingForward(_ x: Tensor, scale: Tensor, bias: Tensor, epsilon: Float) throws -> (Tensor, BatchNormCache) {
    let (n, c) = (x.shape[0], x.shape[1])
    let inner = x.count / max(1, n * c), m = Double(max(1, n * inner))
    var y = try Tensor(shape: x.shape)
    var cache = BatchNormCache(
        normalized: [Float](repeating: 0, count: x.count), inverseStd: [Float](repeating: 0, count: c),
        mean: [Float](repeating: 0, count: c), variance: [Float](repeating: 0, count: c))
    x.storage.withUnsafeBufferPointer { xp in
        y.storage.withUnsafeMutableBufferPointer { yp in
            cache.normalized.withUnsafeMutableBufferPointer { np in
                for ch in 0..<c {
                    var sum = 0.0
                    for i in 0..<n { let base = xp.baseAddress! + (i * c + ch) * inner; for k in 0..<inner { sum += Double(base[k]) } }
                    let mean = sum / m
                    var sq = 0.0
                    for i in 0..<n {
                        let base = xp.baseAddress! + (i * c + ch) * inner
                        for k in 0..<inner { let d = Double(base[k]) - mean; sq += d * d }
                    }
                    let variance = sq / m
                    let inv = Float(1 / (variance + Double(epsilon)).squareRoot())
                    let (gamma, beta, mu) = (scale.storage[ch], bias.storage[ch], Float(mean))
                    for i in 0..<n {
                        let off = (i * c + ch) * inner
                        for k in 0..<inner {
                            let v = (xp[off + k] - mu) * inv
                            np[off + k] = v
                            yp[off + k] = gamma * v + beta
                        }
                    }
                    cache.mean[ch] = mu
                    cache.variance[ch] = Float(variance)
                    cache.inverseStd[ch] = inv
                }
            }
        }
    }
    return (y, cache)
}

/// Backward of training-mode batch normalization, with `M = N·(spatial size)` per channel:
/// `dγ = Σ dy·x̂`, `dβ = Σ dy`, `dx = γ·inv/M · (M·dy − Σdy − x̂·Σ(dy·x̂))`.
public func batchNormTrainingBackward(dy: Tensor, scale: Tensor, cache: BatchNormCache) throws -> (dx: Tensor, dScale: Tensor, dBias: Tensor) {
    let (n, c) = (dy.shape[0], dy.shape[1])
    let inner = dy.count / max(1, n * c), m = Float(max(1, n * inner))
    var dx = try Tensor(shape: dy.shape), dScale = try Tensor(shape: [c]), dBias = try Tensor(shape: [c])
    dy.storage.withUnsafeBufferPointer { gp in
        cache.normalized.withUnsafeBufferPointer { np in
            dx.storage.withUnsafeMutableBufferPointer { dxp in
                for ch in 0..<c {
                    var sumDy: Double = 0, sumDyX: Double = 0
                    for i in 0..<n {
                        let off = (i * c + ch) * inner
                        for k in 0..<inner { sumDy += Double(gp[off + k]); sumDyX += Double(gp[off + k] * np[off + k]) }
                    }
                    dScale.storage[ch] = Float(sumDyX)
                    dBias.storage[ch] = Float(sumDy)
                    let factor = scale.storage[ch] * cache.inverseStd[ch] / m
                    let (sd, sdx) = (Float(sumDy), Float(sumDyX))
                    for i in 0..<n {
                        let off = (i * c + ch) * inner
                        for k in 0..<inner { dxp[off + k] = factor * (m * gp[off + k] - sd - np[off + k] * sdx) }
                    }
                }
            }
        }
    }
    return (dx, dScale, dBias)
}

/// Backward of inference-mode (frozen) batch normalization `y = γ·(x − μ)/sqrt(σ² + ε) + β`
/// with the running statistics: `dx = dy·γ/sqrt(σ² + ε)`, `dγ = Σ dy·(x − μ)/sqrt(σ² + ε)`, `dβ = Σ dy`.
public func batchNormFrozenBackward(x: Tensor, dy: Tensor, scale: Tensor, mean: Tensor, variance: Tensor, epsilon: Float) throws
    -> (dx: Tensor, dScale: Tensor, dBias: Tensor)
{
    let (n, c) = (dy.shape[0], dy.shape[1])
    let inner = dy.count / max(1, n * c)
    var dx = try Tensor(shape: dy.shape), dScale = try Tensor(shape: [c]), dBias = try Tensor(shape: [c])
    x.storage.withUnsafeBufferPointer { xp in
        dy.storage.withUnsafeBufferPointer { gp in
            dx.storage.withUnsafeMutableBufferPointer { dxp in
                for ch in 0..<c {
                    let inv = 1 / (variance.storage[ch] + epsilon).squareRoot(), mu = mean.storage[ch], gamma = scale.storage[ch]
                    var sumDy: Double = 0, sumDyX: Double = 0
                    for i in 0..<n {
                        let off = (i * c + ch) * inner
                        for k in 0..<inner {
                            let g = gp[off + k]
                            sumDy += Double(g)
                            sumDyX += Double(g * (xp[off + k] - mu) * inv)
                            dxp[off + k] = g * gamma * inv
                        }
                    }
                    dScale.storage[ch] = Float(sumDyX)
                    dBias.storage[ch] = Float(sumDy)
                }
            }
        }
    }
    return (dx, dScale, dBias)
}

/// Keras moving-average update: `moving = moving·momentum + batch·(1 − momentum)` (momentum 0.99).
public func updateMovingAverage(_ moving: inout Tensor, batch: [Float], momentum: Float) {
    moving.storage.withUnsafeMutableBufferPointer { p in
        for i in p.indices { p[i] = p[i] * momentum + batch[i] * (1 - momentum) }
    }
}
