import TensorCore

/// Backward of layer normalization over the trailing axes from `axis` (rows of `n` elements,
/// see `Engine.layerNormalization`). With `x̂ = (x − μ)·r`, `r = 1/√(σ² + ε)` per row:
/// `dscale = Σ_rows dy·x̂`, `doffset = Σ_rows dy`, and with `g = dy·scale`,
/// `dx = r · (g − mean(g) − x̂ · mean(g·x̂))`.
public func layerNormalizationBackward(x: Tensor, scale: Tensor, dy: Tensor, axis: Int, epsilon: Float) throws
    -> (dx: Tensor, dScale: Tensor, dOffset: Tensor)
{
    let n = x.shape[axis...].reduce(1, *)
    guard dy.shape == x.shape, scale.count == n else {
        throw ModelPressError.internalError("layerNormalizationBackward: dy \(dy.shape), scale \(scale.shape) for x \(x.shape)")
    }
    var dx = try Tensor(shape: x.shape)
    var dScale = [Double](repeating: 0, count: n), dOffset = [Double](repeating: 0, count: n)
    var normalized = [Double](repeating: 0, count: n), g = [Double](repeating: 0, count: n)
    for r in 0..<(x.count / max(1, n)) {
        let base = r * n
        var sum = 0.0
        for i in 0..<n { sum += Double(x.storage[base + i]) }
        let mean = sum / Double(n)
        var squares = 0.0
        for i in 0..<n { squares += (Double(x.storage[base + i]) - mean) * (Double(x.storage[base + i]) - mean) }
        let inverse = 1 / (squares / Double(n) + Double(epsilon)).squareRoot()
        var meanG = 0.0, meanGX = 0.0
        for i in 0..<n {
            normalized[i] = (Double(x.storage[base + i]) - mean) * inverse
            let d = Double(dy.storage[base + i])
            dScale[i] += d * normalized[i]
            dOffset[i] += d
            g[i] = d * Double(scale.storage[i])
            meanG += g[i]
            meanGX += g[i] * normalized[i]
        }
        meanG /= Double(n)
        meanGX /= Double(n)
        for i in 0..<n { dx.storage[base + i] = Float(inverse * (g[i] - meanG - normalized[i] * meanGX)) }
    }
    return (dx, try Tensor(shape: scale.shape, storage: dScale.map(Float.init)), try Tensor(shape: scale.shape, storage: dOffset.map(Float.init)))
}
