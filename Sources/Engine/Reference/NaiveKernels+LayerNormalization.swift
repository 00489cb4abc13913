import TensorCore

extension NaiveKernels {
    /// Layer normalization by its definition: for each leading index, mean `μ = Σx/n` and
    /// variance `σ² = Σx²/n − μ²` (double precision) over the trailing axes from `axis`, then
    /// `(x − μ)/√(σ² + ε) · scale + offset`.
    public static func layerNormalization(_ x: Tensor, scale: Tensor, offset: Tensor?, axis: Int, epsilon: Float) throws -> Tensor {
        let n = x.shape[axis...].reduce(1, *)
        var out = x
        for r in 0..<(x.count / n) {
            let values = (0..<n).map { Double(x.storage[r * n + $0]) }
            let mean = values.reduce(0, +) / Double(n)
            let variance = values.map { $0 * $0 }.reduce(0, +) / Double(n) - mean * mean
            for i in 0..<n {
                let normalized = (values[i] - mean) / (variance + Double(epsilon)).squareRoot()
                out.storage[r * n + i] = Float(normalized * Double(scale.storage[i]) + Double(offset?.storage[i] ?? 0))
            }
        }
        return out
    }
}
