import Foundation
import TensorCore
import Testing
import Training

/// The two hooks of quantization-aware training, against hand computations on a one-layer
/// classifier `logits = x · W` (x 1×1, W 1×2): values fake-quantized in the forward pass with
/// straight-through gradients inside their range, and a step whose gradient is taken at the
/// rounded weights but applied to the float ones.
@Suite struct FakeQuantizationTrainingTests {
    static func model(_ w: [Float]) throws -> TrainableModel {
        var g = Graph(name: "one")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 1]))
        try g.addInitializer("w", try Tensor(shape: [1, 2], storage: w))
        try g.append(Node(name: "fc", op: .linear, inputs: ["x", "w"], output: "logits"))
        g.outputs = [ValueInfo(name: "logits", shape: [dynamicBatch, 2])]
        return try TrainableModel(graph: g)
    }

    @Test func fakeQuantizedValuesRoundAndClipTheirGradients() throws {
        var model = try Self.model([1, -1])
        // int8 symmetric, scale 0.1: range [−12.8, 12.7].
        model.fakeQuantized["logits"] = TensorQuantization(scales: [0.1], zeroPoints: [0], axis: nil, type: .int8)
        var random = TrainingRandom(seed: 0, stream: .dropout)
        // Samples x = 0.123 and x = 20: logits (0.123, −0.123) round to (0.1, −0.1); (20, −20) clip to (12.7, −12.8).
        let tape = try GradientTape.forward(model, input: try Tensor(shape: [2, 1], storage: [0.123, 20]), training: true, random: &random)
        let out = tape.output.storage
        #expect(zip(out, [0.1, -0.1, 12.7, -12.8]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(out)")
        #expect(tape.observedRanges["logits"].map { abs($0.min + 20) < 1e-6 && abs($0.max - 20) < 1e-6 } == true)
        // d loss / d logits = 1 everywhere: the clipped sample contributes nothing to dW.
        let gradients = try GradientTape.backward(model, tape: tape, outputGradient: try Tensor(shape: [2, 2], repeating: 1))
        // dW = Σ_n x_n · g_n over the unclipped sample only: 0.123 for both columns.
        let dw = gradients.parameters[0].storage
        #expect(abs(dw[0] - 0.123) < 1e-6 && abs(dw[1] - 0.123) < 1e-6, "\(dw)")
    }

    @Test func theStepUsesGradientsAtTheRoundedWeights() throws {
        let w: [Float] = [0.3, -0.1]
        var c = TrainingConfiguration()
        c.epochs = 1
        c.batchSize = 1
        c.learningRate = 1
        c.optimizer = OptimizerConfiguration(kind: .sgd)
        let set = try TrainingSet(inputs: try Tensor(shape: [1, 1], storage: [2]), labels: [0], teacherLogits: nil)
        // The forward pass sees W rounded to steps of 0.25: (0.3, −0.1) → (0.25, 0).
        let result = try Trainer(c).fit(
            try Self.model(w), train: set, validation: nil,
            forwardWeights: { parameters in
                parameters[0].storage = parameters[0].storage.map { ($0 / 0.25).rounded() * 0.25 }
            })
        // Hand computation: logits = 2 · (0.25, 0) = (0.5, 0); p = softmax = (e^0.5, 1) / (e^0.5 + 1);
        // dL/dlogits = p − (1, 0); dL/dW = x · that; W' = W − 1 · dL/dW (the float W, not the rounded one).
        let e = Float(exp(0.5))
        let p = [e / (e + 1), 1 / (e + 1)]
        let expected = [w[0] - 2 * (p[0] - 1), w[1] - 2 * p[1]]
        let got = try #require(result.model.graph.initializers["w"]).storage
        #expect(abs(got[0] - expected[0]) < 1e-5 && abs(got[1] - expected[1]) < 1e-5, "\(got) vs \(expected)")
    }
}
