import ArgumentParser
import Foundation
import ModelIO
import Passes
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

    /// Whether the run fine-tunes (AGP always does; one-shot only with data).
    var fineTunes: Bool { fineTuneData != nil }

    func validate() throws {
        if schedule == .agp, fineTuneData == nil {
            throw ValidationError("--schedule agp fine-tunes between steps: give --fine-tune-data TRAIN.h5.")
        }
        if validation != nil, fineTuneData == nil { throw ValidationError("--validation needs --fine-tune-data TRAIN.h5.") }
        if distillFromOriginal, fineTuneData == nil { throw ValidationError("--distill-from-original needs --fine-tune-data TRAIN.h5.") }
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

/// Pruning with fine-tuning for `modelpress prune`: the unfolded model is fine-tuned (BN
/// frozen by default), then the export passes fold BatchNorm, which scales kernel output
/// channels and permutes Dense rows but keeps zeros zero, so the file has the exact counts.
struct PruneSchedule {
    let options: PruneFineTuneOptions
    let configuration: PruningConfiguration
    let quiet: Bool

    /// Prints a progress line to stderr unless quiet.
    func say(_ line: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The fine-tuned, pruned, export-ready (folded) graph, its report and the rounds.
    func run(_ loaded: Graph, modelPath: String) throws -> (graph: Graph, report: PruningReport, steps: [GradualPruning.Step]) {
        guard let path = options.fineTuneData else { throw ModelPressError.internalError("fine-tuning without data") }
        // 2:4 groups must run along the input dimension of the kernel that ships, and the
        // channels-last Flatten fold permutes Dense rows: 2:4 trains the export-folded graph
        // (BatchNorm folded into the kernels, i.e. frozen). Unstructured counts are permutation-
        // and scale-invariant, so it trains the unfolded model.
        let trainable = configuration.structure == .twoOfFour ? try runPasses(exportPasses, on: loaded).0 : loaded
        let model = try TrainableModel(graph: trainable, source: modelPath)
        let (inputs, labels) = try load(path, model)
        let validation = try options.validation.map { v in
            let (x, y) = try load(v, model)
            return try TrainingSet(inputs: x, labels: y, teacherLogits: nil)
        }
        var teacher: Tensor?
        if options.distillFromOriginal {
            let (logits, source) = try TeacherLogits.compute(teacher: loaded, inputs: inputs, file: modelPath)
            teacher = logits
            say("teacher: the unpruned model (\(source.rawValue)), \(labels.count) samples")
        }
        let train = try TrainingSet(inputs: inputs, labels: labels, teacherLogits: teacher)
        let steps = options.schedule == .agp ? options.steps : 1
        let gradual = GradualPruning(configuration, steps: steps, training: options.training())
        let epochs = options.epochsPerStep
        let (tuned, report, rounds) = try gradual.run(model, train: train, validation: validation, onStep: { t, r in
            let total = r.prunedParameters
            say(String(format: "step %d/%d: sparsity %.2f%% of the pruned kernels", t, steps,
                       total == 0 ? 0 : 100 * (1 - Double(r.prunedNonzeros) / Double(total))))
        }, onEpoch: { _, record in say("  " + EpochLine.format(record, epochs: epochs)) })
        let (folded, _) = try runPasses(exportPasses, on: try tuned.exportGraph())
        return (folded, try report.recounted(in: folded), rounds)
    }

    /// Inputs shaped for `model` and labels from `path` (`--x-key`, `--y-key`); exit 2 on a mismatch.
    func load(_ path: String, _ model: TrainableModel) throws -> (Tensor, [Int]) {
        let file = try DatasetFile(path: path, xKey: options.xKey, yKey: options.yKey, requireLabels: true)
        let shape: [Int]
        do { shape = try file.feedShape(for: model.graph.inputs[0].shape) } catch {
            throw ModelPressError.invalidData(file: path, path: file.x.name,
                                              message: "has samples of shape \(file.sampleShape); the model takes \(Array(model.graph.inputs[0].shape.dropFirst())).\nHINT: pick the matching dataset with --x-key.")
        }
        return (try file.inputs(0..<file.count, as: shape), try file.labels(0..<file.count, classes: model.classes))
    }
}
