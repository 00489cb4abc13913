import Foundation
import TensorCore
import Testing
import Training
import _TestSupport

/// Mixup: blended targets in the loss (hand-worked, the sum of two cross-entropies, finite
/// differences) and blended batches with the teacher recomputed (checked by linearity).
@Suite struct MixupTests {
    @Test func blendedTargetIsTheTwoLabelsWeighted() throws {
        // Uniform logits over 4 classes: CE = ln 4 for any target; gradient softmax − q with
        // q = 0.3 on the row's label 2 and 0.7 on its partner's label 0.
        let s = try Tensor(shape: [1, 4], repeating: 0)
        let result = try Losses.distillation(student: s, teacher: nil, labels: [2], temperature: 1, alpha: 0, partners: [0], weights: [0.3])
        #expect(abs(result.loss - Double(Float.log(4))) < 1e-6)
        let expected: [Float] = [0.25 - 0.7, 0.25, 0.25 - 0.3, 0.25]
        #expect(zip(result.gradient.storage, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func blendedLossIsTheWeightedSumOfTheTwoCrossEntropies() throws {
        let s = random([3, 5], seed: 7)
        let labels = [4, 0, 2], partners = [1, 0, 3], weights: [Float] = [0.25, 0.5, 0.9]
        let mixed = try Losses.distillation(student: s, teacher: nil, labels: labels, temperature: 1, alpha: 0, partners: partners, weights: weights)
        var expected = 0.0
        for row in 0..<3 {
            let logits = try Tensor(shape: [1, 5], storage: Array(s.storage[(row * 5)..<(row * 5 + 5)]))
            let own = try Losses.crossEntropy(logits: logits, labels: [labels[row]]).loss
            let other = try Losses.crossEntropy(logits: logits, labels: [partners[row]]).loss
            expected += (Double(weights[row]) * own + Double(1 - weights[row]) * other) / 3
        }
        #expect(abs(mixed.loss - expected) < 1e-6)
    }

    @Test func blendedGradientMatchesFiniteDifferences() throws {
        var s = random([3, 6], seed: 4)
        let t = random([3, 6], seed: 5)
        let labels = [5, 0, 2], partners = [1, 1, 4], weights: [Float] = [0.1, 0.6, 0.35]
        func loss(_ s: Tensor) throws -> LossResult {
            try Losses.distillation(student: s, teacher: t, labels: labels, temperature: 2, alpha: 0.5, smoothing: 0.1, partners: partners, weights: weights)
        }
        let result = try loss(s)
        let h: Float = 1e-2
        var numeric: [Double] = []
        for i in 0..<s.count {
            s.storage[i] += h
            let plus = try loss(s).loss
            s.storage[i] -= 2 * h
            let minus = try loss(s).loss
            s.storage[i] += h
            numeric.append((plus - minus) / (2 * Double(h)))
        }
        #expect(relativeError(result.gradient.storage, numeric) < 1e-3)
    }

    @Test func batchRowsAreBlendedWithAPermutationAndTheTeacherSeesTheBlend() throws {
        let x = random([6, 3], seed: 11), w = random([3, 4], seed: 12)
        // A linear teacher: its logits on a blend are the blend of its logits. Its one matched
        // feature is its input.
        func teacher(_ input: Tensor) throws -> (logits: Tensor, features: [Tensor]) { (try linear(input), [input]) }
        func linear(_ input: Tensor) throws -> Tensor {
            let n = input.shape[0]
            var out = try Tensor(shape: [n, 4], repeating: 0)
            for r in 0..<n {
                for c in 0..<4 { out.storage[r * 4 + c] = (0..<3).reduce(0) { $0 + input.storage[r * 3 + $1] * w.storage[$1 * 4 + c] } }
            }
            return out
        }
        var set = try TrainingSet(inputs: x, labels: [0, 1, 2, 3, 0, 1], teacherLogits: try linear(x))
        set.teacherInputs = try Tensor(shape: [6, 3, 1], storage: x.storage)
        var random = TrainingRandom(seed: 3, stream: .mixup)
        let mixed = try Mixup.apply(set, random: &random, teacher: teacher)
        let partners = try #require(mixed.partnerLabels), weights = try #require(mixed.mixWeights)
        #expect(weights.allSatisfy { (0..<1).contains($0) })
        let plain = try linear(x)
        #expect(mixed.teacherFeatures.first?.storage == mixed.inputs.storage, "the features are the teacher's on the blended rows")
        var used = Set<Int>()
        for row in 0..<6 {
            // The partner row is the one whose blend reproduces the stored row.
            func blends(_ p: Int) -> Bool {
                (0..<3).allSatisfy { k in
                    let expected = weights[row] * x.storage[row * 3 + k] + (1 - weights[row]) * x.storage[p * 3 + k]
                    return abs(mixed.inputs.storage[row * 3 + k] - expected) < 1e-6
                }
            }
            let partner = try #require((0..<6).first(where: blends))
            used.insert(partner)
            #expect(partners[row] == set.labels![partner])
            for c in 0..<4 {
                let blended = weights[row] * plain.storage[row * 4 + c] + (1 - weights[row]) * plain.storage[partner * 4 + c]
                #expect(abs(mixed.teacherLogits!.storage[row * 4 + c] - blended) < 1e-5)
            }
        }
        #expect(used.count == 6, "the partners form a permutation")
        var again = TrainingRandom(seed: 3, stream: .mixup)
        #expect(try Mixup.apply(set, random: &again, teacher: teacher).inputs == mixed.inputs, "equal seeds blend equally")
    }
}
