import TensorCore

/// Layer normalization in place. `y` is row-major with `rows = Π shape[..<axis]` rows of
/// `n = Π shape[axis...]` elements; each row becomes `(x − mean) / sqrt(var + ε) · scale + offset`
/// with the row's mean and biased variance (two passes: mean, then centred squares, in
/// double precision for the sums). `scale` and `offset` hold `n` elements.
public func layerNormalization(_ y: inout Tensor, scale: Tensor, offset: Tensor?, axis: Int, epsilon: Float) throws {
    let n = y.shape[axis...].reduce(1, *)
    guard scale.count == n, offset.map({ $0.count == n }) ?? true else {
        throw ModelPressError.internalError("layerNormalization: scale \(scale.shape) / offset do not hold \(n) elements")
    }
    let rows = y.count / max(1, n)
    let beta = offset?.storage ?? [Float](repeating: 0, count: n)
    y.storage.withUnsafeMutableBufferPointer { v in
        scale.storage.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                for r in 0..<rows {
                    let row = v.baseAddress! + r * n
                    var sum = 0.0
                    for i in 0..<n { sum += Double(row[i]) }
                    let mean = sum / Double(n)
                    var squares = 0.0
                    for i in 0..<n {
                        let d = Double(row[i]) - mean
                        squares += d * d
                    }
                    let inverse = Float(1 / (squares / Double(n) + Double(epsilon)).squareRoot())
                    let m = Float(mean)
                    for i in 0..<n { row[i] = (row[i] - m) * inverse * g[i] + b[i] }
                }
            }
        }
    }
}
