import TensorCore

/// Inference batch normalization over axis 1: `x` is N×C×…, parameters are C-vectors;
/// `y = (x − mean) · scale / sqrt(variance + epsilon) + bias`.
public func batchNormalization(_ x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, epsilon: Float) -> Tensor {
    var y = x
    batchNormalization(&y, scale: scale, bias: bias, mean: mean, variance: variance, epsilon: epsilon)
    return y
}

/// In-place inference batch normalization of `y` (N×C×…).
public func batchNormalization(_ y: inout Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, epsilon: Float) {
    let (n, c) = (y.shape[0], y.shape[1])
    let inner = y.count / max(1, n * c)
    y.storage.withUnsafeMutableBufferPointer { yp in
        for ch in 0..<c {
            let a = scale.storage[ch] / (variance.storage[ch] + epsilon).squareRoot()
            let b = bias.storage[ch] - mean.storage[ch] * a
            for i in 0..<n {
                let base = yp.baseAddress! + (i * c + ch) * inner
                for k in 0..<inner { base[k] = base[k] * a + b }
            }
        }
    }
}
