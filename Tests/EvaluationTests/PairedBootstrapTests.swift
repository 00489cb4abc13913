import Foundation
import Testing
import _TestSupport

@testable import Evaluation

/// The paired bootstrap interval of the accuracy difference.
@Suite("Paired bootstrap CI of candidate − reference accuracy")
struct PairedBootstrapTests {
    static func correctness(_ n: Int, rate: Double, seed: UInt64) -> [Bool] {
        var generator = SeededGenerator(seed: seed)
        return (0..<n).map { _ in Double.random(in: 0..<1, using: &generator) < rate }
    }

    @Test("identical models: the interval is [0, 0]")
    func identical() {
        let c = Self.correctness(200, rate: 0.8, seed: 1)
        let b = PairedBootstrap(referenceCorrect: c, candidateCorrect: c, resamples: 1000, seed: 3)
        #expect(b.difference == 0 && b.lower == 0 && b.upper == 0)
        #expect(b.resamples == 1000)
    }

    @Test("candidate right wherever reference is wrong and vice versa: every resample says so")
    func constant() {
        let b = PairedBootstrap(
            referenceCorrect: [Bool](repeating: false, count: 50),
            candidateCorrect: [Bool](repeating: true, count: 50), resamples: 200)
        #expect(b.difference == 1 && b.lower == 1 && b.upper == 1)
    }

    @Test("same seed → same interval; another seed → another draw")
    func determinism() {
        let r = Self.correctness(300, rate: 0.9, seed: 5), c = Self.correctness(300, rate: 0.85, seed: 6)
        let a = PairedBootstrap(referenceCorrect: r, candidateCorrect: c, resamples: 500, seed: 42)
        let b = PairedBootstrap(referenceCorrect: r, candidateCorrect: c, resamples: 500, seed: 42)
        let other = PairedBootstrap(referenceCorrect: r, candidateCorrect: c, resamples: 500, seed: 43)
        #expect(a == b)
        #expect(a.lower != other.lower || a.upper != other.upper)
    }

    /// The per-sample difference d ∈ {−1, 0, 1} has mean μ and sd σ; the bootstrap 95% interval
    /// of its mean should be close to μ ± 1.96·σ/√n for n = 2000.
    @Test("interval matches the normal approximation on a large sample")
    func normalApproximation() {
        let r = Self.correctness(2000, rate: 0.9, seed: 7), c = Self.correctness(2000, rate: 0.87, seed: 8)
        let b = PairedBootstrap(referenceCorrect: r, candidateCorrect: c, resamples: 2000, seed: 1)
        let d = zip(c, r).map { Double(($0 ? 1 : 0) - ($1 ? 1 : 0)) }
        let mean = d.reduce(0, +) / 2000
        let sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 1999).squareRoot()
        let half = 1.96 * sd / 2000.0.squareRoot()
        #expect(abs(b.difference - mean) < 1e-12)
        #expect(abs(b.lower - (mean - half)) < 0.15 * half)
        #expect(abs(b.upper - (mean + half)) < 0.15 * half)
    }

    @Test("quantiles interpolate linearly (NumPy's default)")
    func quantiles() {
        #expect(quantile([0, 1, 2, 3, 4], 0.25) == 1)
        #expect(abs((quantile([0, 1, 2, 3, 4], 0.1) ?? -1) - 0.4) < 1e-12)
        #expect(quantile([], 0.5) == nil)
        #expect(quantile([7], 0.975) == 7)
    }
}
