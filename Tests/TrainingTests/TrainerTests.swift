import TensorCore
import Testing
import Training
import _TestSupport

/// Whole training runs on a small synthetic problem: loss goes down, runs are reproducible bit
/// for bit, α = 0 distillation is hard-label training, early stopping keeps the best weights.
@Suite struct TrainerTests {
    /// Three Gaussian-ish blobs in 6-D, `count` samples, labels 0…2.
    static func blobs(_ count: Int, seed: UInt64) throws -> TrainingSet {
        var generator = SeededGenerator(seed: seed)
        var x: [Float] = [], y: [Int] = []
        for i in 0..<count {
            let label = i % 3
            for d in 0..<6 { x.append(Float.random(in: -1...1, using: &generator) + (d % 3 == label ? 1.5 : 0)) }
            y.append(label)
        }
        return try TrainingSet(inputs: try Tensor(shape: [count, 6], storage: x), labels: y, teacherLogits: nil)
    }

    static func configuration() -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = 5
        c.batchSize = 8
        c.learningRate = 0.01
        c.seed = 42
        return c
    }

    static func student() throws -> TrainableModel {
        guard let spec = try StudentSpec.parse("dense:16,dropout0.1,8") else { throw ModelPressError.internalError("spec") }
        return try spec.build(sampleShape: [6], classes: 3, seed: 42)
    }

    @Test func studentSpecBuildsAGlorotInitialisedMLP() throws {
        let model = try Self.student()
        #expect(model.parameters == ["dense_1/kernel", "dense_1/bias", "dense_2/kernel", "dense_2/bias", "logits/kernel", "logits/bias"])
        #expect(model.dropout == ["dense_1/relu": 0.1])
        let limit = (6.0 / Float(6 + 16)).squareRoot()
        let kernel = try #require(model.graph.initializers["dense_1/kernel"])
        #expect(kernel.shape == [6, 16] && kernel.storage.allSatisfy { abs($0) <= limit })
        #expect(kernel.storage.contains { abs($0) > limit * 0.8 })
        #expect(model.graph.initializers["dense_1/bias"]?.storage.allSatisfy { $0 == 0 } == true)
        #expect(model.graph.outputs[0].shape == [dynamicBatch, 3])
        #expect(try StudentSpec.parse("model.h5") == nil)
        #expect(throws: ModelPressError.self) { try StudentSpec.parse("dense:64,x") }
    }

    @Test func convolutionalSpecTrainsWithBatchNorm() throws {
        let spec = try #require(try StudentSpec.parse("conv:4,6"))
        let model = try spec.build(sampleShape: [2, 3, 1], classes: 3, seed: 1)
        #expect(model.parameters == ["conv_1/kernel", "bn_1/gamma", "bn_1/beta", "conv_2/kernel", "bn_2/gamma", "bn_2/beta", "logits/kernel", "logits/bias"])
        #expect(model.graph.nodes.map(\.op.name).contains("MaxPool"))
        var data = try Self.blobs(90, seed: 7)
        data.inputs = try data.inputs.reshaped([90, 2, 3, 1])
        var c = Self.configuration()
        c.epochs = 8
        let result = try Trainer(c).fit(model, train: data, validation: nil)
        #expect(result.history.last!.loss < result.history.first!.loss)
        // Batch statistics moved the running averages away from their initial 0 / 1.
        #expect(result.model.graph.initializers["bn_1/moving_mean"] != model.graph.initializers["bn_1/moving_mean"])
        #expect(throws: ModelPressError.self) { try spec.build(sampleShape: [64], classes: 3, seed: 1) }
    }

    @Test func lstmSpecStacksRecurrentLayersAndTrains() throws {
        let spec = try #require(try StudentSpec.parse("lstm:5,4"))
        let model = try spec.build(sampleShape: [3, 2], classes: 3, seed: 1)
        #expect(
            model.parameters == [
                "lstm_1/kernel", "lstm_1/recurrent_kernel", "lstm_1/bias", "lstm_2/kernel", "lstm_2/recurrent_kernel", "lstm_2/bias", "logits/kernel", "logits/bias",
            ])
        // Keras's unit_forget_bias: the forget block (second of i, f, c, o) starts at one.
        let bias = try #require(model.graph.initializers["lstm_2/bias"])
        #expect(bias.storage == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        let limit = (6.0 / Float(2 + 20)).squareRoot()
        #expect(model.graph.initializers["lstm_1/kernel"]?.storage.allSatisfy { abs($0) <= limit } == true)
        // The first LSTM hands its sequence to the second, whose last state feeds the classifier.
        #expect(model.graph.nodes.first { $0.name == "lstm_2" }?.inputs.first == "lstm_1/sequence")
        #expect(model.graph.nodes.last?.inputs.first == "lstm_2/state_h")
        try Self.expectTrainsOnSequences(model)
        #expect(throws: ModelPressError.self) { try spec.build(sampleShape: [6], classes: 3, seed: 1) }
    }

    @Test func transformerSpecBuildsEncoderBlocksAndTrains() throws {
        let spec = try #require(try StudentSpec.parse("transformer:2,8,2"))
        let model = try spec.build(sampleShape: [3, 2], classes: 3, seed: 1)
        // Embedding, positions, per block 4 attention projections + 2 FFN layers (kernel and bias each) and 2 LayerNorms (γ, β), classifier.
        #expect(model.parameters.count == 2 + 1 + 2 * (4 * 2 + 2 * 2 + 2 * 2) + 2, "\(model.parameters)")
        #expect(model.graph.initializers["block_2/norm1/gamma"]?.storage == [Float](repeating: 1, count: 8))
        #expect(model.graph.shapes["block_1/attention/scores"] == [dynamicBatch, 2, 3, 3])
        try Self.expectTrainsOnSequences(model)
        #expect(throws: ModelPressError.self) { try StudentSpec.parse("transformer:2,9,2") }
        #expect(throws: ModelPressError.self) { try spec.build(sampleShape: [6], classes: 3, seed: 1) }
    }

    /// Eight epochs on 90 blobs read as 3 steps × 2 features cut the loss by at least a fifth.
    static func expectTrainsOnSequences(_ model: TrainableModel) throws {
        var data = try Self.blobs(90, seed: 7)
        data.inputs = try data.inputs.reshaped([90, 3, 2])
        var c = Self.configuration()
        c.epochs = 8
        let result = try Trainer(c).fit(model, train: data, validation: nil)
        #expect(result.history.last!.loss < result.history.first!.loss * 0.8, "losses \(result.history.map(\.loss))")
    }

    @Test func trainingReducesTheLossAndIsBitReproducible() throws {
        let data = try Self.blobs(90, seed: 1)
        for optimizer in OptimizerKind.allCases {
            var c = Self.configuration()
            c.optimizer = OptimizerConfiguration(kind: optimizer)
            if optimizer == .sgd { c.optimizer.momentum = 0.9; c.optimizer.nesterov = true; c.learningRate = 0.05 }
            c.schedule = .cosine(warmup: 5, total: 60, floor: 0.1)
            c.optimizer.clipGlobalNorm = 5
            let first = try Trainer(c).fit(try Self.student(), train: data, validation: nil)
            let second = try Trainer(c).fit(try Self.student(), train: data, validation: nil)
            #expect(first.history.count == 5)
            let losses = first.history.map(\.loss)
            #expect(losses.last! < losses.first! * 0.7, "\(optimizer): losses \(losses)")
            #expect(first.model.graph.initializers == second.model.graph.initializers, "\(optimizer): same seed, different weights")
            #expect(first.history.map(\.loss) == second.history.map(\.loss))
            c.seed = 43
            let other = try Trainer(c).fit(try Self.student(), train: data, validation: nil)
            #expect(other.model.graph.initializers != first.model.graph.initializers)
        }
    }

    @Test func distillationWithAlphaZeroIsHardLabelTraining() throws {
        let hard = try Self.blobs(60, seed: 2)
        var withTeacher = hard
        withTeacher.teacherLogits = random([60, 3], seed: 9)
        var c = Self.configuration()
        c.alpha = 0
        let a = try Trainer(c).fit(try Self.student(), train: hard, validation: nil)
        let b = try Trainer(c).fit(try Self.student(), train: withTeacher, validation: nil)
        #expect(a.model.graph.initializers == b.model.graph.initializers)
    }

    @Test func distillationFromATeacherPullsTheStudentTowardsIt() throws {
        // Pure soft-label distillation on unlabeled data: the student's KL to the teacher falls.
        var data = try Self.blobs(90, seed: 3)
        data.teacherLogits = try Tensor(shape: [90, 3], storage: (0..<270).map { i in i % 3 == (i / 3) % 3 ? 3 : 0 })
        data.labels = nil
        var c = Self.configuration()
        c.temperature = 2
        let result = try Trainer(c).fit(try Self.student(), train: data, validation: nil)
        #expect(result.history.last!.loss < result.history.first!.loss * 0.5)
        #expect(result.history.first!.accuracy == nil)
    }

    @Test func earlyStoppingKeepsTheBestWeights() throws {
        let data = try Self.blobs(90, seed: 4), validation = try Self.blobs(30, seed: 5)
        var c = Self.configuration()
        c.epochs = 40
        c.learningRate = 0.05
        c.earlyStoppingPatience = 2
        let result = try Trainer(c).fit(try Self.student(), train: data, validation: validation)
        let best = result.history.min { ($0.validationLoss ?? .infinity) < ($1.validationLoss ?? .infinity) }
        #expect(result.bestEpoch == best?.epoch)
        let evaluated = try Trainer(c).evaluate(result.model, on: validation)
        #expect(abs(evaluated.loss - (best?.validationLoss ?? 0)) < 1e-9)
        if result.stoppedEarly { #expect(result.history.count == result.bestEpoch + 2) }
    }

    @Test func afterStepHookKeepsPrunedWeightsAtZero() throws {
        // The hook gradual pruning uses: zero half of the first kernel after every step.
        let result = try Trainer(Self.configuration()).fit(
            try Self.student(), train: try Self.blobs(60, seed: 8), validation: nil,
            afterStep: { _, parameters in
                for i in stride(from: 0, to: parameters[0].count, by: 2) { parameters[0].storage[i] = 0 }
            })
        let kernel = try #require(result.model.graph.initializers["dense_1/kernel"])
        #expect(stride(from: 0, to: kernel.count, by: 2).allSatisfy { kernel.storage[$0] == 0 })
        #expect(stride(from: 1, to: kernel.count, by: 2).contains { kernel.storage[$0] != 0 })
    }

    @Test func divergenceNamesTheEpochAndBatch() throws {
        var c = Self.configuration()
        c.optimizer = OptimizerConfiguration(kind: .sgd)
        c.learningRate = 1e30
        do {
            _ = try Trainer(c).fit(try Self.student(), train: try Self.blobs(30, seed: 6), validation: nil)
            Issue.record("expected divergence")
        } catch let error as ModelPressError {
            #expect(error.exitCode == 2)
            #expect("\(error)".contains("epoch 1, batch"))
        }
    }
}
