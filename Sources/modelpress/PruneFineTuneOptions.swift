import ArgumentParser
import Foundation
import ModelIO
import Pruning
import TensorCore
import Training

/// The `prune` flags of pruning with fine-tuning: the schedule, the data and the recipe (the
/// names and defaults of `train` where they overlap).
struct PruneFineTuneOptions: ParsableArguments {
    @Option(help: "oneshot (prune once) or agp (Zhu & Gupta cubic ramp s_t = S·(1 − (1 − t/K)³) over --steps K, fine-tuning after each step).")
    var schedule = PruningSchedule.oneshot

    @Option(help: "AGP steps K (prune, then fine-tune --epochs-per-step epochs, K times).")
    var steps = 5

    @Option(help: "HDF5 training data for fine-tuning after each pruning step (required for agp).")
    var fineTuneData: String?

    @Option(help: "HDF5 data (same dataset names) to measure accuracy on after every fine-tuning epoch.")
    var validation: String?

    @Option(help: "Fine-tuning epochs after each pruning step.")
    var epochsPerStep = 2

    @Option(help: "Input dataset name in --fine-tune-data.")
    var xKey = "x"

    @Option(help: "Label dataset name in --fine-tune-data.")
    var yKey = "y"

    @Option(help: "Fine-tuning samples per optimizer step.")
    var batchSize = 32

    @Option(help: "Fine-tuning learning rate.")
    var learningRate: Float = 1e-3

    @Option(help: "Optimizer.")
    var optimizer = OptimizerKind.adam

    @Option(help: "BatchNorm while fine-tuning: frozen (stored statistics, inference mode) or batch (batch statistics, running averages updated, as Keras fit does).")
    var batchNorm = BatchNormMode.frozen

    @Option(help: "Seed of the fine-tuning shuffles; equal seeds give identical files.")
    var seed: UInt64 = 0

    @Flag(help: "Fine-tune by distilling from the unpruned model (soft labels; the loss of `distill`).")
    var distillFromOriginal = false

    @Option(help: "Distillation temperature T (with --distill-from-original).")
    var temperature: Float = 4

    @Option(help: "Weight α of the soft (teacher) term (with --distill-from-original).")
    var alpha: Float = 0.9

    @Option(
        help:
            "With --distill-from-original: also distill intermediate layers of the unpruned model into the same layers of the pruned one, LAYER[,…] (or TEACHER:STUDENT pairs)."
    )
    var match: String?

    @Option(help: "Feature loss for --match: l2 or cosine.")
    var featureLoss = FeatureLoss.l2

    @Option(help: "Weight of the feature loss next to the logit loss (with --match).")
    var featureWeight: Float = 1

    /// Whether the run fine-tunes (AGP always does; one-shot only with data).
    var fineTunes: Bool { fineTuneData != nil }

    func validate() throws {
        if schedule == .agp, fineTuneData == nil {
            throw ValidationError("--schedule agp fine-tunes between steps: give --fine-tune-data TRAIN.h5.")
        }
        if validation != nil, fineTuneData == nil { throw ValidationError("--validation needs --fine-tune-data TRAIN.h5.") }
        if distillFromOriginal, fineTuneData == nil { throw ValidationError("--distill-from-original needs --fine-tune-data TRAIN.h5.") }
        if match != nil, !distillFromOriginal { throw ValidationError("--match needs --distill-from-original (the unpruned model is the teacher).") }
        guard featureWeight >= 0, featureWeight.isFinite else { throw ValidationError("--feature-weight must be a number ≥ 0.") }
        guard steps >= 1, epochsPerStep >= 1, batchSize >= 1 else { throw ValidationError("--steps, --epochs-per-step and --batch-size must be at least 1.") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive.") }
        guard temperature > 0, temperature.isFinite, (0...1).contains(alpha) else {
            throw ValidationError("--temperature must be positive and --alpha in [0, 1].")
        }
    }

    /// The fine-tuning recipe of one step.
    func training() -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = epochsPerStep
        c.batchSize = batchSize
        c.learningRate = learningRate
        c.optimizer = OptimizerConfiguration(kind: optimizer)
        c.seed = seed
        c.batchNorm = batchNorm
        c.temperature = temperature
        c.alpha = alpha
        return c
    }
}

extension PruneFineTuneOptions {
    /// Prunes and fine-tunes `loaded` (read from `modelPath`) as these options say; progress on stderr unless `quiet`.
    func run(_ loaded: Graph, modelPath: String, configuration: PruningConfiguration, quiet: Bool) throws -> (graph: Graph, report: PruningReport, steps: [GradualPruning.Step]) {
        guard let fineTuneData else { throw ModelPressError.internalError("fine-tuning without data") }
        let train = try DatasetFile(path: fineTuneData, xKey: xKey, yKey: yKey, requireLabels: true)
        let validation = try self.validation.map { try DatasetFile(path: $0, xKey: xKey, yKey: yKey, requireLabels: true) }
        var job = FineTunedPruning(configuration, schedule: schedule, steps: steps, training: training(), distillFromOriginal: distillFromOriginal)
        // A layer named alone is matched with itself.
        job.featureMatch = match.map { text in
            (text.split(separator: ",").map { $0.contains(":") ? String($0) : "\($0):\($0)" }.joined(separator: ","), featureLoss, featureWeight)
        }
        return try job.run(loaded, modelPath: modelPath, train: train, validation: validation) { line in
            if !quiet { FileHandle.standardError.writeBestEffort(Data((line + "\n").utf8)) }
        }
    }
}
