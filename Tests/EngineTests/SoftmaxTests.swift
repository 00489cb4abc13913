import Engine
import Foundation
import TensorCore
import Testing
import _TestSupport

/// Softmax along `axis` computed in Double: `exp(x − max) / Σ exp(x − max)` per line.
func softmaxReference(_ x: Tensor, axis: Int) -> Tensor {
    let n = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
    let outer = x.count / (n * inner)
    var y = x
    for o in 0..<outer {
        for i in 0..<inner {
            let line = (0..<n).map { Double(x.storage[(o * n + $0) * inner + i]) }
            let m = line.max()!
            let sum = line.reduce(0) { $0 + exp($1 - m) }
            for k in 0..<n { y.storage[(o * n + k) * inner + i] = Float(exp(line[k] - m) / sum) }
        }
    }
    return y
}

@Suite("softmax matches its definition")
struct SoftmaxTests {
    @Test(
        "softmax ≈ Double computation; every line sums to 1",
        arguments: [([2, 5, 3, 4], 1), ([3, 7], 1), ([2, 3, 6], 2), ([2, 4, 3, 5], 3), ([1, 1000], 1)])
    func matchesReference(_ shape: [Int], _ axis: Int) throws {
        var generator = SeededGenerator(seed: UInt64(shape.reduce(axis, *)))
        let x = randomTensor(shape, in: -5...5, &generator)
        let y = softmax(x, axis: axis)
        expectClose(y, softmaxReference(x, axis: axis), relative: 1e-5, "x\(shape) axis \(axis)")
        let n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        for o in 0..<(x.count / (n * inner)) {
            for i in 0..<inner {
                let sum = (0..<n).reduce(0.0) { $0 + Double(y.storage[(o * n + $1) * inner + i]) }
                #expect(abs(sum - 1) <= 1e-5, "line (\(o), \(i)) sums to \(sum)")
            }
        }
    }

    @Test("large logits (±1000) do not overflow")
    func largeInputs() throws {
        let x = try Tensor(
            shape: [3, 4],
            storage: [
                1000, 1000, 1000, 1000,
                1000, 999, 998, -1000,
                -1000, -1000, 0, 1000,
            ])
        let y = softmax(x, axis: 1)
        #expect(y.storage.allSatisfy { $0.isFinite })
        let e1 = exp(-1.0), e2 = exp(-2.0), s = 1 + e1 + e2
        expectValues(
            y, shape: [3, 4],
            [
                0.25, 0.25, 0.25, 0.25,
                Float(1 / s), Float(e1 / s), Float(e2 / s), 0,
                0, 0, 0, 1,
            ], tolerance: 1e-6)
        expectClose(y, softmaxReference(x, axis: 1), relative: 1e-6)
    }
}
