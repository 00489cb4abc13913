import Evaluation
import Testing

/// Gates: which ones exist, their direction and the float slack.
@Suite("Gate evaluation")
struct GateEvaluationTests {
    @Test("drop, relative drop, agreement and KL in a fixed order")
    func allGates() {
        let gates = evaluateGates(
            GateLimits(maxDrop: 0.01, maxRelativeDrop: 0.02, minAgreement: 0.95, maxKL: 0.1),
            referenceAccuracy: 0.9, candidateAccuracy: 0.88, agreement: 0.96, meanKL: 0.2)
        #expect(gates.map(\.name) == ["max_drop", "max_relative_drop", "min_agreement", "max_kl"])
        #expect(abs(gates[0].value - 0.02) < 1e-12 && !gates[0].passed)
        #expect(abs(gates[1].value - 0.02 / 0.9) < 1e-12 && !gates[1].passed)
        #expect(gates[2].passed && gates[2].comparison == ">=")
        #expect(!gates[3].passed && gates[3].comparison == "<=")
    }

    @Test("a value equal to its limit passes despite float noise; unrequested gates are absent")
    func boundary() {
        let gates = evaluateGates(
            GateLimits(maxDrop: 0.1), referenceAccuracy: 0.3, candidateAccuracy: 0.2,
            agreement: 1, meanKL: 0)
        #expect(gates.count == 1)
        #expect(gates[0].passed, "0.3 − 0.2 = \(0.3 - 0.2) should count as 0.1")
    }

    @Test("without accuracies the accuracy gates are not produced")
    func noLabels() {
        let gates = evaluateGates(
            GateLimits(maxDrop: 0.1, minAgreement: 0.5), referenceAccuracy: nil,
            candidateAccuracy: nil, agreement: 0.4, meanKL: 0)
        #expect(gates.map(\.name) == ["min_agreement"])
        #expect(!gates[0].passed)
    }
}
