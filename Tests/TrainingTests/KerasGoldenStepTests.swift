import Foundation
import ModelIO
import TensorCore
import Testing
import Training
import _TestSupport

/// Three Adam steps of the distillation loss on one fixed batch, against Keras 3 doing the same
/// from the same weights (`fixtures/reference/distill_steps.h5`, made by
/// `fixtures/make_fixtures.sh --distill-reference`): forward, loss, backward and optimizer together.
@Suite struct KerasGoldenStepTests {
    static let names = ["dense_1/kernel", "dense_1/bias", "dense_2/kernel", "dense_2/bias", "logits/kernel", "logits/bias"]

    @Test func threeAdamStepsMatchKeras() throws {
        let file = try HDF5File(readingFrom: Fixtures.path("reference/distill_steps.h5"))
        let root = file.root
        let x = try root.dataset("x").readTensor(), teacher = try root.dataset("teacher_logits").readTensor()
        let labels = try root.dataset("y").readInt64(rows: 0..<x.shape[0]).map(Int.init)
        let kerasLosses = try root.dataset("losses").readFloats()
        let spec = try #require(try StudentSpec.parse("dense:64,32"))
        var model = try spec.build(sampleShape: [64], classes: 10, seed: 0)
        #expect(model.parameters == Self.names)
        model.setInitializers(try Self.names.map { ($0, try root.dataset("step0/" + $0).readTensor()) })
        var parameters = model.parameterValues()
        var optimizer = Optimizer(OptimizerConfiguration(kind: .adam))
        var random = TrainingRandom(seed: 0)
        for step in 1...3 {
            let tape = try GradientTape.forward(model, input: x, training: true, random: &random)
            let loss = try Losses.distillation(student: tape.output, teacher: teacher, labels: labels, temperature: 4, alpha: 0.9)
            #expect(abs(loss.loss - Double(kerasLosses[step - 1])) < 1e-5 * Double(kerasLosses[step - 1]), "step \(step) loss")
            let grads = try GradientTape.backward(model, tape: tape, outputGradient: loss.gradient)
            optimizer.update(&parameters, gradients: grads.parameters, learningRate: 1e-3)
            model.setInitializers(Array(zip(model.parameters, parameters)))
            for (name, value) in zip(Self.names, parameters) {
                let keras = try root.dataset("step\(step)/" + name).readTensor()
                let initial = try root.dataset("step0/" + name).readTensor()
                // Adam moves each weight by about lr = 1e-3 per step; the updates agree with
                // Keras's to float32 rounding of the weights (≤ 9e-8 measured).
                let ours = zip(value.storage, initial.storage).map { $0 - $1 }
                let theirs = zip(keras.storage, initial.storage).map { $0 - $1 }
                let worst = maxAbsDifference(ours, theirs)
                #expect(worst < 5e-7, "step \(step) '\(name)': update differs from Keras by up to \(worst) (lr 1e-3)")
            }
        }
    }
}
