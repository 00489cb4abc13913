import Foundation
import TensorCore
import Testing
import Training

/// The optimizers' update rules against Keras 3's formulas, schedules and clipping.
@Suite struct OptimizerTests {
    func step(_ configuration: OptimizerConfiguration, w: [Float], grads: [[Float]], lr: Float) throws -> [Float] {
        var optimizer = Optimizer(configuration)
        var parameters = [try Tensor(shape: [w.count], storage: w)]
        for g in grads { optimizer.update(&parameters, gradients: [try Tensor(shape: [g.count], storage: g)], learningRate: lr) }
        return parameters[0].storage
    }

    @Test func adamMatchesKerasFormula() throws {
        // Keras 3: α_t = lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ); m += (g − m)(1 − β₁); v += (g² − v)(1 − β₂); w −= m·α_t/(sqrt(v) + ε).
        let w: [Float] = [1, -2], g1: [Float] = [0.5, -0.1], g2: [Float] = [0.2, 0.3]
        var m = [Double](repeating: 0, count: 2), v = m, expected = w.map(Double.init)
        for (t, g) in [g1, g2].enumerated() {
            let alpha = 0.01 * (1 - pow(0.999, Double(t + 1))).squareRoot() / (1 - pow(0.9, Double(t + 1)))
            for i in 0..<2 {
                m[i] += (Double(g[i]) - m[i]) * 0.1
                v[i] += (Double(g[i]) * Double(g[i]) - v[i]) * 0.001
                expected[i] -= m[i] * alpha / (v[i].squareRoot() + 1e-7)
            }
        }
        let got = try step(OptimizerConfiguration(kind: .adam), w: w, grads: [g1, g2], lr: 0.01)
        for i in 0..<2 { #expect(abs(Double(got[i]) - expected[i]) < 1e-6) }
    }

    @Test func adamwDecaysBeforeTheAdamStep() throws {
        var c = OptimizerConfiguration(kind: .adamw)
        #expect(c.effectiveWeightDecay == 0.004)
        c.weightDecay = 0.1
        // Zero gradient: Adam's step is 0, only w ← w − w·wd·lr remains.
        let got = try step(c, w: [2], grads: [[0]], lr: 0.5)
        #expect(abs(got[0] - (2 - 2 * 0.1 * 0.5)) < 1e-7)
    }

    @Test func sgdMomentumAndNesterov() throws {
        var c = OptimizerConfiguration(kind: .sgd)
        #expect(try step(c, w: [1], grads: [[2]], lr: 0.1) == [Float(1) - 0.2])
        c.momentum = 0.9
        // m1 = −0.2, w = 0.8; m2 = 0.9·(−0.2) − 0.1·1 = −0.28, w = 0.52
        #expect(abs(try step(c, w: [1], grads: [[2], [1]], lr: 0.1)[0] - 0.52) < 1e-6)
        c.nesterov = true
        // w1 = 1 + 0.9·(−0.2) − 0.2 = 0.62; m2 = −0.28, w2 = 0.62 + 0.9·(−0.28) − 0.1 = 0.268
        #expect(abs(try step(c, w: [1], grads: [[2], [1]], lr: 0.1)[0] - 0.268) < 1e-6)
    }

    @Test func globalNormClipping() throws {
        var c = OptimizerConfiguration(kind: .sgd)
        c.clipGlobalNorm = 1
        // Gradient (3, 4) has norm 5, clipped to (0.6, 0.8).
        let got = try step(c, w: [0, 0], grads: [[3, 4]], lr: 1)
        #expect(abs(got[0] + 0.6) < 1e-6 && abs(got[1] + 0.8) < 1e-6)
    }

    @Test func schedules() throws {
        #expect(LearningRateSchedule.constant.rate(base: 0.1, step: 100) == 0.1)
        let stepped = try LearningRateSchedule.parse("step:2:0.5", stepsPerEpoch: 10, epochs: 10)
        #expect(stepped == .step(every: 20, factor: 0.5))
        #expect(stepped.rate(base: 1, step: 19) == 1 && stepped.rate(base: 1, step: 20) == 0.5 && stepped.rate(base: 1, step: 45) == 0.25)
        let cosine = try LearningRateSchedule.parse("cosine:1:0.1", stepsPerEpoch: 10, epochs: 11)
        #expect(cosine == .cosine(warmup: 10, total: 110, floor: 0.1))
        #expect(abs(cosine.rate(base: 1, step: 0) - 0.1) < 1e-6)  // warm-up starts at base/warmup
        #expect(abs(cosine.rate(base: 1, step: 9) - 1) < 1e-6)  // and reaches base
        #expect(abs(cosine.rate(base: 1, step: 60) - 0.55) < 1e-6)  // half way: floor + (1 − floor)/2
        #expect(abs(cosine.rate(base: 1, step: 110) - 0.1) < 1e-6)  // ends at the floor
        #expect(throws: ModelPressError.self) { try LearningRateSchedule.parse("linear", stepsPerEpoch: 1, epochs: 1) }
    }
}
