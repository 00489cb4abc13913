import Engine
import TensorCore
import Testing
import _TestSupport

/// `linear` (sgemm on the last axis) against `NaiveKernels.linear` and a hand-worked product.
@Suite("linear matches the naive definition")
struct LinearTests {
    /// (input shape, units M, with bias); K is the input's last dimension.
    static let cases: [([Int], Int, Bool)] = [
        ([5, 7], 3, true),
        ([5, 7], 3, false),
        ([1, 16], 10, true),
        ([2, 3, 4, 6], 5, true),
        ([2, 3, 4, 6], 5, false),
        ([4, 1], 3, true),  // K = 1
        ([2, 2, 3, 1], 4, false),  // K = 1, rank 4
        ([6, 9], 1, true),  // M = 1
    ]

    @Test("linear ≈ NaiveKernels.linear", arguments: cases)
    func matchesNaive(_ shape: [Int], _ units: Int, _ hasBias: Bool) throws {
        var generator = SeededGenerator(seed: UInt64(shape.reduce(units, *) * (hasBias ? 3 : 7)))
        let x = randomTensor(shape, &generator)
        let w = randomTensor([shape.last!, units], &generator)
        let b = hasBias ? randomTensor([units], &generator) : nil
        let fast = try linear(x, weights: w, bias: b)
        let naive = try NaiveKernels.linear(x, weights: w, bias: b)
        #expect(fast.shape == Array(shape.dropLast()) + [units])
        expectClose(fast, naive, relative: 1e-5, "x\(shape) M=\(units) bias=\(hasBias)")
    }

    @Test("hand-worked 2×2 · 2×3 + bias")
    func handWorked() throws {
        // [[1, 2], [3, 4]] · [[1, 0, 2], [0, 1, 3]] = [[1, 2, 8], [3, 4, 18]]; + [10, 20, 30].
        let x = try Tensor(shape: [2, 2], storage: [1, 2, 3, 4])
        let w = try Tensor(shape: [2, 3], storage: [1, 0, 2, 0, 1, 3])
        let b = try Tensor(shape: [3], storage: [10, 20, 30])
        expectValues(try linear(x, weights: w, bias: b), shape: [2, 3], [11, 22, 38, 13, 24, 48])
        expectValues(try linear(x, weights: w, bias: nil), shape: [2, 3], [1, 2, 8, 3, 4, 18])
    }
}
