/// Everything that decides a training run; equal configurations and data give bit-identical weights.
public struct TrainingConfiguration: Sendable, Codable, Equatable {
    /// Passes over the training set.
    public var epochs = 10
    /// Samples per optimizer step (the last batch of an epoch may be smaller, as in Keras).
    public var batchSize = 32
    /// Base learning rate.
    public var learningRate: Float = 1e-3
    /// Update rule and its hyper-parameters.
    public var optimizer = OptimizerConfiguration(kind: .adam)
    /// Learning rate over steps.
    public var schedule = LearningRateSchedule.constant
    /// Distillation temperature T.
    public var temperature: Float = 4
    /// Weight α of the soft (teacher) term; `1 − α` weighs the hard-label cross-entropy.
    public var alpha: Float = 0.9
    /// Label smoothing ε of the hard-label cross-entropy.
    public var labelSmoothing: Float = 0
    /// Mixup: blend each batch's rows in pairs (`Mixup`), with the teacher's logits recomputed on
    /// the blended rows when distilling.
    public var mixup = false
    /// Seed of shuffling and dropout (and of spec-built students' initial weights).
    public var seed: UInt64 = 0
    /// Stop after this many epochs without a lower validation loss, keeping the best weights.
    public var earlyStoppingPatience: Int?
    /// Batch normalization during training.
    public var batchNorm = BatchNormMode.batchStatistics

    /// Keras-like defaults (Adam 1e-3, batch 32, T = 4, α = 0.9).
    public init() {}
}

extension BatchNormMode: Codable {}
