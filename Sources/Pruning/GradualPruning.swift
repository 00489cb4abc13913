import TensorCore
import Training

/// Pruning with fine-tuning: `steps` rounds of "prune to `s_t`, then fine-tune `training.epochs`
/// epochs with the masks held fixed". `s_t` follows `AGPSchedule` (one round at the final
/// sparsity for a one-shot prune with fine-tuning). Masks are recomputed each round on the
/// current weights; weights pruned earlier are zero, rank lowest, and so stay pruned because
/// `s_t` never decreases. After every optimizer step `PruningMasks.apply` puts the pruned weights
/// back to zero, so the final weights have exactly the final per-layer counts of zeros.
public struct GradualPruning: Sendable {
    /// The final targets (scope, structure, per-layer overrides, exclusions).
    public var configuration: PruningConfiguration
    /// Number of prune-then-fine-tune rounds K (≥ 1).
    public var steps: Int
    /// The fine-tuning recipe of each round; `epochs` is epochs per step. BatchNorm is usually
    /// `.frozen` (stored statistics, inference mode), which keeps what the export folds fixed.
    public var training: TrainingConfiguration

    /// One round's numbers.
    public struct Step: Sendable, Encodable, Equatable {
        /// 1-based round.
        public var step: Int
        /// The sparsity asked of kernels without their own target (`s_t`).
        public var sparsity: Double
        /// Zeros over all pruned kernels after pruning, before fine-tuning.
        public var achieved: Double
        /// Weights zeroed in this round.
        public var pruned: Int
        /// The fine-tuning epochs of the round.
        public var epochs: [EpochRecord]
    }

    /// A schedule of `steps` rounds towards `configuration`, fine-tuning with `training`.
    public init(_ configuration: PruningConfiguration, steps: Int, training: TrainingConfiguration) {
        self.configuration = configuration
        self.steps = steps
        self.training = training
    }

    /// Prunes and fine-tunes `model` on `train` (its teacher logits, when present, make the
    /// fine-tuning distil). Returns the fine-tuned model (weights as trained, BN unfolded), the
    /// last round's report (counts of the final weights) and the rounds. `onStep` is called after
    /// each round's pruning, `onEpoch` after each fine-tuning epoch. `features`: intermediate
    /// values distilled too (their targets in `train.teacherFeatures`).
    public func run(
        _ initial: TrainableModel, train: TrainingSet, validation: TrainingSet? = nil, features: FeatureDistillation? = nil,
        onStep: (Int, PruningReport) -> Void = { _, _ in },
        onEpoch: (Int, EpochRecord) -> Void = { _, _ in }
    ) throws -> (model: TrainableModel, report: PruningReport, steps: [Step]) {
        guard steps >= 1 else { throw ModelPressError.invalidArgument("--steps \(steps) must be at least 1") }
        guard steps == 1 || configuration.structure != .twoOfFour else {
            throw ModelPressError.invalidArgument(
                "--schedule agp ramps the sparsity; --structure 2:4 is fixed at 50%.\nHINT: use --schedule oneshot (with --fine-tune-data to fine-tune once).")
        }
        try configuration.validate()
        var model = initial
        var rounds: [Step] = []
        var report: PruningReport?
        let initialNonzeros = try MagnitudePruning(PruningConfiguration(sparsity: 0)).prune(model.graph).1.layers
        var nonzeros = Dictionary(initialNonzeros.map { ($0.weight, $0.nonzeros) }, uniquingKeysWith: { first, _ in first })
        let original = nonzeros
        for t in 1...steps {
            let target = configuration.scaled(by: AGPSchedule.fraction(step: t, steps: steps))
            let (pruned, stepReport) = try MagnitudePruning(target).prune(model.graph)
            model.graph = pruned
            var zeroed = 0
            for layer in stepReport.layers {
                zeroed += (nonzeros[layer.weight] ?? layer.nonzeros) - layer.nonzeros
                nonzeros[layer.weight] = layer.nonzeros
            }
            onStep(t, stepReport)
            let masks = PruningMasks(graph: pruned, report: stepReport)
            var config = training
            config.seed = training.seed &+ UInt64(t - 1)
            let names = model.parameters
            let result = try Trainer(config).fit(
                model, train: train, validation: validation,
                afterStep: { _, parameters in
                    try masks.apply(to: &parameters, names: names)
                }, features: features, onEpoch: { onEpoch(t, $0) })
            model = result.model
            let total = stepReport.prunedParameters
            rounds.append(
                Step(
                    step: t, sparsity: target.sparsity,
                    achieved: total == 0 ? 0 : 1 - Double(stepReport.prunedNonzeros) / Double(total),
                    pruned: zeroed, epochs: result.history))
            report = stepReport
        }
        guard var final = try report?.recounted(in: model.graph) else { throw ModelPressError.internalError("gradual pruning ran no step") }
        for i in final.layers.indices {
            final.layers[i].pruned = max(0, (original[final.layers[i].weight] ?? final.layers[i].nonzeros) - final.layers[i].nonzeros)
        }
        final.targetSparsity = configuration.overallTarget
        return (model, final, rounds)
    }
}
