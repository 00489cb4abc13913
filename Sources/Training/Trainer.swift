import Dispatch
import Engine
import Evaluation
import TensorCore

/// One epoch's numbers, as the JSON training log records them.
public struct EpochRecord: Sendable, Codable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean training loss over the epoch's batches (training mode, weights changing).
    public var loss: Double
    /// Training accuracy over the epoch (when there are labels).
    public var accuracy: Double?
    /// Validation loss (inference mode) after the epoch.
    public var validationLoss: Double?
    /// Validation accuracy after the epoch.
    public var validationAccuracy: Double?
    /// Learning rate at the epoch's last step.
    public var learningRate: Double
    /// Wall time of the epoch's training steps (validation excluded).
    public var seconds: Double
    /// Training samples per second.
    public var samplesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case epoch, loss, accuracy, seconds
        case validationLoss = "val_loss", validationAccuracy = "val_accuracy"
        case learningRate = "learning_rate", samplesPerSecond = "samples_per_second"
    }
}

/// What a training run produced.
public struct TrainingResult: Sendable {
    /// The model with the weights kept (the best validation epoch under early stopping, else the last).
    public var model: TrainableModel
    /// Per-epoch records.
    public var history: [EpochRecord]
    /// The epoch whose weights were kept (1-based).
    public var bestEpoch: Int
    /// Whether early stopping ended the run before `epochs`.
    public var stoppedEarly: Bool
}

/// Mini-batch training over a `TrainableModel`: seeded shuffling, forward with a tape,
/// distillation or cross-entropy loss, backward, optimizer step; validation and early stopping.
public struct Trainer: Sendable {
    /// The run's settings.
    public let configuration: TrainingConfiguration

    /// A trainer for `configuration`.
    public init(_ configuration: TrainingConfiguration) { self.configuration = configuration }

    /// The loss on `batch`'s logits (its labels, teacher logits and mixup partners).
    func loss(_ logits: Tensor, on batch: TrainingSet) throws -> LossResult {
        let c = configuration
        return try Losses.distillation(
            student: logits, teacher: batch.teacherLogits, labels: batch.labels, temperature: c.temperature,
            alpha: c.alpha, smoothing: c.labelSmoothing, partners: batch.partnerLabels, weights: batch.mixWeights)
    }

    /// Mean loss and accuracy (when labelled) of `model` on `set` in inference mode.
    public func evaluate(_ model: TrainableModel, on set: TrainingSet) throws -> (loss: Double, accuracy: Double?) {
        let executor = Executor(graph: model.graph)
        var total = 0.0, correct = 0, start = 0
        let order = Array(0..<set.count)
        while start < set.count {
            let rows = order[start..<min(start + max(configuration.batchSize, 256), set.count)]
            let batch = try set.subset(rows)
            let logits = try executor.run(batch.inputs)
            total += try loss(logits, on: batch).loss * Double(rows.count)
            if let labels = batch.labels { correct += zip(argmaxRows(logits), labels).filter { $0 == $1 }.count }
            start = rows.endIndex
        }
        return (total / Double(max(1, set.count)), set.labels == nil ? nil : Double(correct) / Double(max(1, set.count)))
    }

    /// Trains `model` on `train`, validating on `validation` after each epoch. `afterStep(step,
    /// parameters)` may rewrite the parameters (in `model.parameters` order) after each optimizer
    /// step — e.g. re-apply pruning masks; `onBatch(epoch, samplesDone, samples)` after each step,
    /// `onEpoch` after each epoch. `forwardWeights` (quantization-aware training) rewrites a copy
    /// of the parameters that the forward and backward passes see; the optimizer updates the
    /// originals with the gradients computed on the copy (straight through). `afterForward` sees
    /// each batch's tape and may update the model (e.g. moving-average ranges). `features` adds
    /// the feature-distillation loss of each batch's `teacherFeatures`. With
    /// `configuration.mixup` each batch is blended (`Mixup`) and, when distilling, `teacher`
    /// computes the logits (and matched features) of the blended `teacherInputs`. Throws
    /// (exit 2) when the loss stops being finite, naming the epoch and batch.
    public func fit(
        _ initial: TrainableModel, train: TrainingSet, validation: TrainingSet?,
        afterStep: (Int, inout [Tensor]) throws -> Void = { _, _ in },
        forwardWeights: ((inout [Tensor]) throws -> Void)? = nil,
        afterForward: (inout TrainableModel, Tape) throws -> Void = { _, _ in },
        features: FeatureDistillation? = nil,
        teacher: Mixup.TeacherOnBatch? = nil,
        onBatch: (Int, Int, Int) -> Void = { _, _, _ in },
        onEpoch: (EpochRecord) -> Void = { _ in }
    ) throws -> TrainingResult {
        let c = configuration
        guard train.count > 0 else { throw ModelPressError.invalidArgument("the training set is empty") }
        guard c.batchSize >= 1, c.epochs >= 1 else { throw ModelPressError.invalidArgument("--epochs and --batch-size must be at least 1") }
        guard train.labels != nil || train.teacherLogits != nil else {
            throw ModelPressError.invalidArgument("nothing to learn from: no labels and no teacher")
        }
        if c.mixup, train.teacherLogits != nil, teacher == nil || train.teacherInputs == nil {
            throw ModelPressError.internalError("mixup distillation needs the teacher and its inputs")
        }
        var model = initial
        var optimizer = Optimizer(c.optimizer)
        var shuffler = TrainingRandom(seed: c.seed, stream: .shuffle)
        var dropoutRandom = TrainingRandom(seed: c.seed, stream: .dropout)
        var mixupRandom = TrainingRandom(seed: c.seed, stream: .mixup)
        var parameters = model.parameterValues()
        var history: [EpochRecord] = []
        var best: (loss: Double, epoch: Int, weights: Graph)?
        var waited = 0, stoppedEarly = false
        var step = 0
        let batches = (train.count + c.batchSize - 1) / c.batchSize
        for epoch in 1...c.epochs {
            let started = DispatchTime.now().uptimeNanoseconds
            var order = Array(0..<train.count)
            shuffler.shuffle(&order)
            var lossSum = 0.0, correct = 0, lr = c.learningRate
            for b in 0..<batches {
                let rows = order[(b * c.batchSize)..<min((b + 1) * c.batchSize, train.count)]
                var batch = try train.subset(rows)
                if c.mixup { batch = try Mixup.apply(batch, random: &mixupRandom, teacher: teacher) }
                if let forwardWeights {
                    var seen = parameters
                    try forwardWeights(&seen)
                    model.setInitializers(Array(zip(model.parameters, seen)))
                }
                let tape = try GradientTape.forward(model, input: batch.inputs, training: true, batchNorm: c.batchNorm, random: &dropoutRandom)
                try afterForward(&model, tape)
                var result = try loss(tape.output, on: batch)
                var seeds: [String: Tensor] = [:]
                if let features, !batch.teacherFeatures.isEmpty {
                    let extra = try features.lossAndGradients(tape, targets: batch.teacherFeatures)
                    result.loss += extra.loss
                    seeds = extra.gradients
                }
                guard result.loss.isFinite else {
                    throw ModelPressError.invalidArgument("training diverged: the loss is \(result.loss) at epoch \(epoch), batch \(b + 1) of \(batches).\nHINT: lower --learning-rate, or add --clip-norm.")
                }
                let gradients = try GradientTape.backward(model, tape: tape, outputGradient: result.gradient, seeds: seeds, batchNorm: c.batchNorm)
                lr = c.schedule.rate(base: c.learningRate, step: step)
                optimizer.update(&parameters, gradients: gradients.parameters, learningRate: lr)
                features?.update(learningRate: lr)
                try afterStep(step, &parameters)
                model.setInitializers(Array(zip(model.parameters, parameters)))
                model.setInitializers(tape.statisticUpdates)
                step += 1
                lossSum += result.loss * Double(rows.count)
                if let labels = batch.dominantLabels { correct += zip(argmaxRows(tape.output), labels).filter { $0 == $1 }.count }
                onBatch(epoch, rows.endIndex, train.count)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let validated = try validation.map { try evaluate(model, on: $0) }
            let record = EpochRecord(
                epoch: epoch, loss: lossSum / Double(train.count),
                accuracy: train.labels == nil ? nil : Double(correct) / Double(train.count),
                validationLoss: validated?.loss, validationAccuracy: validated?.accuracy ?? nil,
                learningRate: Double(lr), seconds: seconds, samplesPerSecond: Double(train.count) / max(seconds, 1e-9))
            history.append(record)
            onEpoch(record)
            if let patience = c.earlyStoppingPatience, let monitored = validated?.loss {
                if monitored < (best?.loss ?? .infinity) {
                    best = (monitored, epoch, model.graph)
                    waited = 0
                } else {
                    waited += 1
                    if waited >= patience { stoppedEarly = epoch < c.epochs; break }
                }
            }
        }
        if let best { model.graph = best.weights }
        return TrainingResult(model: model, history: history, bestEpoch: best?.epoch ?? history.count, stoppedEarly: stoppedEarly)
    }
}
