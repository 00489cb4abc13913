import Evaluation
import Foundation
import Testing

/// Agreement, KL, output drift and the probability check, on hand-worked values.
@Suite("Comparison metrics between two models")
struct ComparisonMetricsTests {
    @Test("agreement counts equal top-1 classes")
    func agreement() {
        #expect(ComparisonMetrics.agreement([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75)
    }

    /// Row 1: 0.5·ln(0.5/0.25) + 0.5·ln(0.5/0.75) = 0.5·ln(4/3); row 2 identical → 0.
    @Test("mean KL worked by hand, zero-probability terms contribute 0")
    func kl() {
        let kl = ComparisonMetrics.meanKL([0.5, 0.5, 0.3, 0.7], [0.25, 0.75, 0.3, 0.7], classes: 2)
        #expect(abs(kl - 0.25 * log(4.0 / 3)) < 1e-7)
        #expect(abs(ComparisonMetrics.meanKL([1, 0], [0.5, 0.5], classes: 2) - log(2.0)) < 1e-7)
        #expect(ComparisonMetrics.meanKL([0.2, 0.8], [0.2, 0.8], classes: 2) == 0)
    }

    /// diffs 0, 0.5, 0, −2 → max 2, MAE 2.5/4, MSE (0.25 + 4)/4.
    @Test("drift: max, mean absolute and squared difference")
    func drift() {
        let d = OutputDrift(reference: [0, 1, 2, 3], candidate: [0, 1.5, 2, 1])
        #expect(d.maxAbsDifference == 2)
        #expect(d.meanAbsDifference == 0.625)
        #expect(d.meanSquaredError == 1.0625)
    }

    @Test("probabilities used as such; logits, negatives or bad sums go through softmax")
    func probabilityView() {
        #expect(ProbabilityView(outputs: [0.2, 0.8, 0.5, 0.5], classes: 2).softmaxApplied == false)
        #expect(ProbabilityView(outputs: [0.2, 0.8005], classes: 2).softmaxApplied == false)  // within 1e-3
        #expect(ProbabilityView(outputs: [0.2, 0.802], classes: 2).softmaxApplied == true)
        #expect(ProbabilityView(outputs: [-0.1, 1.1], classes: 2).softmaxApplied == true)
        let view = ProbabilityView(outputs: [1, 2, 3], classes: 3)
        let z = exp(1.0) + exp(2.0) + exp(3.0)
        #expect(view.softmaxApplied)
        for (i, v) in view.values.enumerated() { #expect(abs(Double(v) - exp(Double(i + 1)) / z) < 1e-6) }
    }
}
