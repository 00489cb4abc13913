import TensorCore
import Training

/// Gradient attacks on a batch: FGSM and PGD on the cross-entropy of a differentiable model
/// (`TrainableModel`: its logits, a final softmax stripped), inputs kept in `[lower, upper]`.
struct AdversarialAttack {
    /// The model whose gradients drive the attack.
    let model: TrainableModel
    /// Smallest value an adversarial input may take (the data's minimum).
    let lower: Float
    /// Largest value (the data's maximum).
    let upper: Float

    /// `d loss / d x` for the mean cross-entropy of `x` (N×…, the model's input shape) against `labels`.
    func lossGradient(_ x: Tensor, labels: [Int]) throws -> Tensor {
        var random = TrainingRandom(seed: 0)
        let tape = try GradientTape.forward(model, input: x, training: false, batchNorm: .frozen, random: &random)
        let loss = try Losses.crossEntropy(logits: tape.output, labels: labels)
        let gradients = try GradientTape.backward(model, tape: tape, outputGradient: loss.gradient, batchNorm: .frozen)
        guard let input = gradients.input else {
            throw ModelPressError.internalError("the loss does not depend on the input '\(model.graph.inputs[0].name)'")
        }
        return input
    }

    /// The adversarial version of `x` (N×…) under `perturbation` (`.fgsm` or `.pgd`).
    func attack(_ x: Tensor, labels: [Int], perturbation: Perturbation) throws -> Tensor {
        switch perturbation {
        case .fgsm(let epsilon):
            return try step(x, from: x, labels: labels, size: Float(epsilon), radius: Float(epsilon))
        case .pgd(let epsilon, let steps, let stepSize):
            let size = Float(stepSize ?? 2.5 * epsilon / Double(steps))
            var current = x
            for _ in 0..<steps { current = try step(current, from: x, labels: labels, size: size, radius: Float(epsilon)) }
            return current
        default:
            return x
        }
    }

    /// One signed-gradient step of `size` from `current`, projected into the `radius` box
    /// around `origin` and into `[lower, upper]`.
    private func step(_ current: Tensor, from origin: Tensor, labels: [Int], size: Float, radius: Float) throws -> Tensor {
        guard size > 0 else { return current }
        let gradient = try lossGradient(current, labels: labels)
        var next = current
        let lower = lower, upper = upper
        next.storage.withUnsafeMutableBufferPointer { x in
            gradient.storage.withUnsafeBufferPointer { g in
                origin.storage.withUnsafeBufferPointer { o in
                    for i in x.indices {
                        let sign: Float = g[i] > 0 ? 1 : (g[i] < 0 ? -1 : 0)
                        let moved = min(max(x[i] + size * sign, o[i] - radius), o[i] + radius)
                        x[i] = min(max(moved, lower), upper)
                    }
                }
            }
        }
        return next
    }
}
