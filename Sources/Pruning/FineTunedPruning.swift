import Foundation
import Passes
import TensorCore
import Training

/// Pruning with fine-tuning (`modelpress prune --fine-tune-data`): the unfolded model is
/// fine-tuned (BN frozen by default), then the export passes fold BatchNorm, which scales
/// kernel output channels and permutes Dense rows but keeps zeros zero, so the file has the
/// exact counts.
public struct FineTunedPruning {
    /// What to prune.
    public var configuration: PruningConfiguration
    /// One-shot (prune, fine-tune once) or AGP over `steps` steps.
    public var schedule: PruningSchedule
    /// AGP steps K.
    public var steps: Int
    /// The fine-tuning recipe of one step.
    public var training: TrainingConfiguration
    /// Fine-tune by distilling from the unpruned model.
    public var distillFromOriginal: Bool
    /// With `distillFromOriginal`: intermediate values matched between the unpruned and the
    /// pruned model (`TEACHER:STUDENT,…`, the `distill --match` syntax), their loss and weight.
    public var featureMatch: (match: String, loss: FeatureLoss, weight: Float)?

    /// Pruning to `configuration` on `schedule`, fine-tuned by `training` after each step.
    public init(_ configuration: PruningConfiguration, schedule: PruningSchedule, steps: Int, training: TrainingConfiguration, distillFromOriginal: Bool) {
        self.configuration = configuration
        self.schedule = schedule
        self.steps = steps
        self.training = training
        self.distillFromOriginal = distillFromOriginal
    }

    /// The fine-tuned, pruned, export-ready (folded) graph of `loaded` (read from `modelPath`),
    /// its report and the rounds; `say` receives progress lines.
    public func run(
        _ loaded: Graph, modelPath: String, train trainData: any LabelledBatchSource, validation validationData: (any LabelledBatchSource)?,
        say: (String) -> Void = { _ in }
    ) throws -> (graph: Graph, report: PruningReport, steps: [GradualPruning.Step]) {
        // Groups that span inputs (2:4, blocks of several inputs) must lie in the kernel that
        // ships, and the channels-last Flatten fold permutes Dense rows: those train the
        // export-folded graph (BatchNorm folded into the kernels, i.e. frozen). Unstructured
        // zeros and R×1 blocks survive the row permutation and BatchNorm's output scaling, so
        // they train the unfolded model.
        let trainable = configuration.structure.groupsSpanInputs ? try runPasses(exportPasses, on: loaded).0 : loaded
        let model = try TrainableModel(graph: trainable, source: modelPath)
        let (inputs, labels) = try TrainingSet.read(trainData, for: model.graph)
        let validation = try validationData.map { v in
            let (x, y) = try TrainingSet.read(v, for: model.graph)
            return try TrainingSet(inputs: x, labels: y, teacherLogits: nil)
        }
        var teacher: Tensor?
        var features: FeatureDistillation?
        var teacherFeatures: [Tensor] = []
        if distillFromOriginal {
            let (logits, source) = try TeacherLogits.compute(teacher: loaded, inputs: inputs, file: modelPath)
            teacher = logits
            say("teacher: the unpruned model (\(source.rawValue)), \(labels.count) samples")
            if let (match, loss, weight) = featureMatch {
                // The teacher is the graph that is trained, before any weight is pruned.
                let parsed = try FeatureDistillation.parse(match, teacher: model.graph, student: model.graph)
                features = try FeatureDistillation(
                    matches: parsed.matches, studentChannels: parsed.studentChannels, teacherChannels: parsed.teacherChannels, loss: loss, weight: weight,
                    seed: training.seed)
                teacherFeatures = try FeatureDistillation.teacherFeatures(model.graph, values: parsed.matches.map(\.teacher), inputs: inputs)
                say("feature distillation from the unpruned model: " + parsed.matches.map(\.teacher).joined(separator: ", "))
            }
        }
        var train = try TrainingSet(inputs: inputs, labels: labels, teacherLogits: teacher)
        train.teacherFeatures = teacherFeatures
        let steps = schedule == .agp ? self.steps : 1
        let gradual = GradualPruning(configuration, steps: steps, training: training)
        let epochs = training.epochs
        let (tuned, report, rounds) = try gradual.run(
            model, train: train, validation: validation, features: features,
            onStep: { t, r in
                let total = r.prunedParameters
                say(
                    String(
                        format: "step %d/%d: sparsity %.2f%% of the pruned kernels", t, steps,
                        total == 0 ? 0 : 100 * (1 - Double(r.prunedNonzeros) / Double(total))))
            }, onEpoch: { _, record in say("  " + EpochLine.format(record, epochs: epochs)) })
        let (folded, _) = try runPasses(exportPasses, on: try tuned.exportGraph())
        return (folded, try report.recounted(in: folded), rounds)
    }
}
