import Foundation
import TensorCore
import Testing
import Training
import _TestSupport

/// The distillation and cross-entropy losses: a hand-worked example, limits, and gradients.
@Suite struct LossTests {
    @Test func distillationMatchesHandWorkedExample() throws {
        // s = [1, 0], t = [2, 0], T = 2, α = 0.5, y = 0:
        // softmax(s/T) = [0.622459, 0.377541], softmax(t/T) = [0.731059, 0.268941]
        // KL = 0.731059·ln(0.731059/0.622459) + 0.268941·ln(0.268941/0.377541) = 0.0131723
        // α·T²·KL = 0.0526892;  CE = −ln softmax(s)₀ = ln(1 + e⁻¹) = 0.3132617;  (1 − α)·CE = 0.1566308
        // loss = 0.2093200; gradient = α·T·(p_s − p_t) + (1 − α)·(softmax(s) − onehot) = [−0.2430700, +0.2430700]
        let s = try Tensor(shape: [1, 2], storage: [1, 0]), t = try Tensor(shape: [1, 2], storage: [2, 0])
        let result = try Losses.distillation(student: s, teacher: t, labels: [0], temperature: 2, alpha: 0.5)
        #expect(abs(result.loss - 0.20932001571288378) < 1e-6)
        #expect(abs(result.gradient.storage[0] - -0.24306995811314785) < 1e-6)
        #expect(abs(result.gradient.storage[1] - 0.2430699581131479) < 1e-6)
    }

    @Test func alphaZeroIsCrossEntropyBitForBit() throws {
        let s = random([5, 4], seed: 1), t = random([5, 4], seed: 2)
        let labels = [0, 3, 1, 2, 3]
        let distilled = try Losses.distillation(student: s, teacher: t, labels: labels, temperature: 4, alpha: 0)
        let hard = try Losses.crossEntropy(logits: s, labels: labels)
        #expect(distilled.loss == hard.loss)
        #expect(distilled.gradient == hard.gradient)
    }

    @Test func withoutLabelsTheLossIsPureSoftAndZeroAtTheTeacher() throws {
        let t = random([3, 5], seed: 2)
        let same = try Losses.distillation(student: t, teacher: t, labels: nil, temperature: 3, alpha: 0.2)
        #expect(abs(same.loss) < 1e-6)
        #expect(same.gradient.storage.allSatisfy { abs($0) < 1e-7 })
        let s = random([3, 5], seed: 3)
        let pure = try Losses.distillation(student: s, teacher: t, labels: nil, temperature: 3, alpha: 0.2)
        let full = try Losses.distillation(student: s, teacher: t, labels: [0, 1, 2], temperature: 3, alpha: 1)
        #expect(abs(pure.loss - full.loss) < 1e-9)
    }

    @Test func labelSmoothingTargets() throws {
        // Uniform logits: CE = ln C whatever the smoothing; the gradient is (1/C − q)/N.
        let s = try Tensor(shape: [1, 4], repeating: 0)
        let result = try Losses.crossEntropy(logits: s, labels: [2], smoothing: 0.2)
        #expect(abs(result.loss - Double(Float.log(4))) < 1e-6)
        // q = 0.8·onehot + 0.05 → target 0.85 on class 2, 0.05 elsewhere.
        #expect(abs(result.gradient.storage[2] - (0.25 - 0.85)) < 1e-6)
        #expect(abs(result.gradient.storage[0] - (0.25 - 0.05)) < 1e-6)
    }

    @Test(arguments: [(Float(0.9), Float(4)), (0.5, 1), (0, 2)])
    func gradientMatchesFiniteDifferences(_ alpha: Float, _ temperature: Float) throws {
        var s = random([3, 6], seed: 4)
        let t = random([3, 6], seed: 5)
        let labels = [5, 0, 2]
        let result = try Losses.distillation(student: s, teacher: t, labels: labels, temperature: temperature, alpha: alpha, smoothing: 0.1)
        let h: Float = 1e-2
        var numeric: [Double] = []
        for i in 0..<s.count {
            s.storage[i] += h
            let plus = try Losses.distillation(student: s, teacher: t, labels: labels, temperature: temperature, alpha: alpha, smoothing: 0.1).loss
            s.storage[i] -= 2 * h
            let minus = try Losses.distillation(student: s, teacher: t, labels: labels, temperature: temperature, alpha: alpha, smoothing: 0.1).loss
            s.storage[i] += h
            numeric.append((plus - minus) / (2 * Double(h)))
        }
        #expect(relativeError(result.gradient.storage, numeric) < 1e-3)
    }
}

extension Float {
    /// Natural logarithm (test helper).
    static func log(_ v: Float) -> Float { Float(Foundation.log(Double(v))) }
}
