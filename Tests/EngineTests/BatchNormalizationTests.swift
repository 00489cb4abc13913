import Engine
import TensorCore
import Testing
import _TestSupport

/// Inference batch normalization against `(x − mean) · scale / sqrt(variance + ε) + bias`
/// evaluated in Double.
@Suite("batchNormalization matches its formula")
struct BatchNormalizationTests {
    @Test("batchNormalization ≈ the formula in Double", arguments: [[3, 4, 5, 2], [6, 3], [2, 5, 1, 1], [1, 2, 3]])
    func matchesFormula(_ shape: [Int]) throws {
        var generator = SeededGenerator(seed: UInt64(shape.reduce(1, *)))
        let channels = shape[1]
        let x = randomTensor(shape, in: -3...3, &generator)
        let scale = randomTensor([channels], in: -2...2, &generator)
        let bias = randomTensor([channels], &generator)
        let mean = randomTensor([channels], &generator)
        let variance = randomTensor([channels], in: 0.01...2, &generator)
        let epsilon: Float = 1e-3
        let y = batchNormalization(x, scale: scale, bias: bias, mean: mean, variance: variance, epsilon: epsilon)

        let inner = shape.dropFirst(2).reduce(1, *)
        var expected = x
        for i in x.storage.indices {
            let c = (i / inner) % channels
            let normalized = (Double(x.storage[i]) - Double(mean.storage[c])) / (Double(variance.storage[c]) + Double(epsilon)).squareRoot()
            expected.storage[i] = Float(normalized * Double(scale.storage[c]) + Double(bias.storage[c]))
        }
        expectClose(y, expected, relative: 1e-5, "x\(shape)")
    }

    @Test("hand-worked: epsilon is added to the variance, channels keep their own parameters")
    func handWorked() throws {
        // Channel 0: (2 − 1) · 3 / sqrt(0 + 0.25) + 1 = 7 and (0 − 1) · 3 / 0.5 + 1 = −5.
        // Channel 1: (x − 0) · 1 / sqrt(3.75 + 0.25) + 0 = x / 2.
        let x = try Tensor(shape: [1, 2, 2], storage: [2, 0, 4, -6])
        let p = { (values: [Float]) in try Tensor(shape: [2], storage: values) }
        let y = batchNormalization(
            x, scale: try p([3, 1]), bias: try p([1, 0]), mean: try p([1, 0]),
            variance: try p([0, 3.75]), epsilon: 0.25)
        expectValues(y, shape: [1, 2, 2], [7, -5, 2, -3])
    }
}
