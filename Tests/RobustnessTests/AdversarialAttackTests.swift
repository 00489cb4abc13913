import Evaluation
import ModelIO
import ModelLoading
import TensorCore
import Testing
import Training
import _TestSupport

@testable import Robustness

/// The first `count` digits test samples as the MLP reads them, with their labels.
private func digits(_ count: Int) throws -> (x: Tensor, labels: [Int], model: TrainableModel) {
    let graph = try ModelLoader.load(Fixtures.path("models/keras3/mlp.h5"))
    let data = try DatasetFile(path: Fixtures.path("data/digits_test.h5"), requireLabels: true)
    let x = try #require(try data.feeds(0..<count, for: graph.inputs, model: nil)[graph.inputs[0].name])
    return (x, try data.labels(0..<count, classes: 10), try TrainableModel(graph: graph))
}

/// The mean cross-entropy the attack climbs, computed by a plain forward pass.
private func loss(_ model: TrainableModel, _ x: Tensor, _ labels: [Int]) throws -> Double {
    var random = TrainingRandom(seed: 0)
    let tape = try GradientTape.forward(model, input: x, training: false, batchNorm: .frozen, random: &random)
    return try Losses.crossEntropy(logits: tape.output, labels: labels).loss
}

@Test func fgsmGradientMatchesFiniteDifferences() throws {
    let (x, labels, model) = try digits(4)
    let attack = AdversarialAttack(model: model, lower: 0, upper: 1)
    let gradient = try attack.lossGradient(x, labels: labels)
    let h: Float = 1e-2
    var numeric: [Double] = [], analytic: [Double] = []
    // Every 5th feature of the 4 samples (256 values): central differences of the float32 forward pass.
    for i in stride(from: 0, to: x.count, by: 5) {
        var plus = x, minus = x
        plus.storage[i] += h
        minus.storage[i] -= h
        numeric.append((try loss(model, plus, labels) - loss(model, minus, labels)) / Double(2 * h))
        analytic.append(Double(gradient.storage[i]))
    }
    let error = zip(numeric, analytic).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
    let scale = numeric.map { $0 * $0 }.reduce(0, +).squareRoot()
    #expect(scale > 1e-4, "the loss must depend on the input")
    #expect(error / scale < 2e-2, "input gradient: relative error \(error / scale)")
}

@Test func fgsmRaisesTheLossAndStaysInTheBox() throws {
    let (x, labels, model) = try digits(16)
    let attack = AdversarialAttack(model: model, lower: 0, upper: 1)
    let adversarial = try attack.attack(x, labels: labels, perturbation: .fgsm(epsilon: 0.05))
    #expect(try loss(model, adversarial, labels) > loss(model, x, labels) + 0.01)
    for (a, o) in zip(adversarial.storage, x.storage) {
        #expect(abs(a - o) <= 0.05 + 1e-6 && a >= 0 && a <= 1)
    }
}

@Test func pgdWithOneStepEqualsFGSM() throws {
    let (x, labels, model) = try digits(16)
    let attack = AdversarialAttack(model: model, lower: 0, upper: 1)
    let fgsm = try attack.attack(x, labels: labels, perturbation: .fgsm(epsilon: 0.03))
    for stepSize in [nil, 0.03] as [Double?] {
        let pgd = try attack.attack(x, labels: labels, perturbation: .pgd(epsilon: 0.03, steps: 1, stepSize: stepSize))
        #expect(pgd.storage == fgsm.storage)
    }
    #expect(fgsm.storage != x.storage)
    let pgd10 = try attack.attack(x, labels: labels, perturbation: .pgd(epsilon: 0.03, steps: 10, stepSize: nil))
    #expect(try loss(model, pgd10, labels) >= loss(model, fgsm, labels))
}
