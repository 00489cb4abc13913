import Foundation
import TensorCore
import Testing
import Training

/// The feature-distillation loss against finite differences (its gradient at the student's
/// value, through the learned projection, for L2 and cosine), and the row layout of images.
@Suite struct FeatureDistillationTests {
    /// `x [N,6] → dense:5 → logits`, and a tape on 3 samples.
    static func tape() throws -> (TrainableModel, Tape, String) {
        guard let spec = try StudentSpec.parse("dense:5") else { throw ModelPressError.internalError("spec") }
        let model = try spec.build(sampleShape: [6], classes: 3, seed: 7)
        var random = TrainingRandom(seed: 1, stream: .dropout)
        let x = try Tensor(shape: [3, 6], storage: (0..<18).map { Float(sin(Double($0) * 0.7)) })
        let tape = try GradientTape.forward(model, input: x, training: false, random: &random)
        let value = try #require(model.graph.nodes.first { $0.op == .linear }?.output)
        return (model, tape, value)
    }

    @Test(arguments: [FeatureLoss.l2, .cosine])
    func gradientMatchesFiniteDifferences(loss: FeatureLoss) throws {
        let (_, tape, value) = try Self.tape()
        let width = try #require(tape.values[value]).shape[1]
        // Teacher width 4 ≠ student width: a projection is learned.
        let target = try Tensor(shape: [3, 4], storage: (0..<12).map { Float(cos(Double($0) * 1.3)) })
        let features = try FeatureDistillation(
            matches: [.init(teacher: "t", student: value)], studentChannels: [width], teacherChannels: [4], loss: loss, weight: 0.7, seed: 3)
        let (base, gradients) = try features.lossAndGradients(tape, targets: [target])
        #expect(base > 0)
        let g = try #require(gradients[value])
        for i in [0, 4, 7, 13] where i < g.count {
            var plus = tape, minus = tape
            let eps: Float = 1e-2
            plus.values[value]!.storage[i] += eps
            minus.values[value]!.storage[i] -= eps
            let numeric = (try features.lossAndGradients(plus, targets: [target]).loss - features.lossAndGradients(minus, targets: [target]).loss) / Double(2 * eps)
            #expect(abs(numeric - Double(g.storage[i])) < 2e-3 * max(1, abs(numeric)), "\(loss) element \(i): \(numeric) vs \(g.storage[i])")
        }
    }

    @Test func identicalFeaturesWithoutProjectionCostNothing() throws {
        let (_, tape, value) = try Self.tape()
        let v = try #require(tape.values[value])
        for loss in FeatureLoss.allCases {
            let features = try FeatureDistillation(
                matches: [.init(teacher: "t", student: value)], studentChannels: [v.shape[1]], teacherChannels: [v.shape[1]], loss: loss, weight: 1, seed: 0)
            let (l, g) = try features.lossAndGradients(tape, targets: [v])
            #expect(abs(l) < 1e-6, "\(loss)")
            #expect(g[value]!.storage.allSatisfy { abs($0) < 1e-4 })
        }
    }
}
