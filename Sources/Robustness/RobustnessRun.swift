import Engine
import Evaluation
import TensorCore
import Training

/// Measures a reference and a candidate under the conditions of a `RobustnessPlan`: every
/// perturbed batch is made once and fed to both models (adversarial batches from the
/// gradients of one of them), and each condition is scored against the clean data.
public struct RobustnessRun {
    /// Called with a condition's name, the rows of a batch and its perturbed input (the
    /// reference's input shape): how `verify --save-perturbed` writes the inputs it judged.
    public typealias PerturbedSink = (_ condition: String, _ rows: Range<Int>, _ input: Tensor) throws -> Void

    let reference: VerifiedModel
    let candidate: VerifiedModel
    let data: any LabelledBatchSource
    let batchSize: Int
    let plan: RobustnessPlan

    /// A run of `plan` on `data` in batches of `batchSize`.
    public init(reference: VerifiedModel, candidate: VerifiedModel, data: any LabelledBatchSource, batchSize: Int, plan: RobustnessPlan) {
        self.reference = reference
        self.candidate = candidate
        self.data = data
        self.batchSize = batchSize
        self.plan = plan
    }

    /// The summary; `progress(label, done, total)` per batch, `sink` for each perturbed batch.
    public func measure(progress: (String, Int, Int) -> Void = { _, _, _ in }, sink: PerturbedSink? = nil) throws -> RobustnessSummary {
        try plan.validate()
        let referenceRunner = try DatasetRunner(graph: reference.graph, batchSize: batchSize)
        let candidateRunner = try DatasetRunner(graph: candidate.graph, batchSize: batchSize)
        let input = referenceRunner.executor.graph.inputs[0]
        let holdsIds = input.elementType != .float32

        var clean = try predictions(referenceRunner, candidateRunner, label: "robustness clean", progress: progress) { _, feeds in feeds }
        let classes = clean.classes
        let labels = data.hasLabels ? try data.labels(0..<data.count, classes: classes) : nil
        clean.score(labels)

        var conditions: [ConditionResult] = [], skipped: [SkippedCondition] = []
        var statistics: InputStatistics?
        var attack: AdversarialAttack?
        for (index, (perturbation, named)) in plan.conditions.enumerated() {
            // The defaults hold token substitution for id inputs only; it is not "skipped" on images.
            if !named, !perturbation.needsRealInput, !holdsIds { continue }
            if let reason = try inapplicability(of: perturbation, holdsIds: holdsIds, input: input.name) {
                if named { throw ModelPressError.invalidArgument("\(perturbation.name): \(reason)") }
                skipped.append(SkippedCondition(name: perturbation.name, reason: reason))
                continue
            }
            if statistics == nil, !holdsIds { statistics = try inputStatistics(referenceRunner) }
            if perturbation.kind.isAdversarial, attack == nil { attack = try makeAttack(statistics!) }
            let vocabulary = perturbation.kind == .tokenSubstitution ? try tokenVocabulary() : 0
            let attackLabels = labels ?? clean.reference
            var scored = try predictions(referenceRunner, candidateRunner, label: "robustness \(perturbation.name)", progress: progress) {
                rows, feeds in
                var feeds = feeds
                var x = feeds[input.name]!
                if perturbation.kind.isAdversarial, let attack {
                    let shaped = try Tensor(shape: [rows.count] + Array(attack.model.graph.inputs[0].shape.dropFirst()), storage: x.storage)
                    x.storage = try attack.attack(shaped, labels: Array(attackLabels[rows]), perturbation: perturbation).storage
                } else {
                    let features = x.count / max(1, rows.count)
                    x.storage.withUnsafeMutableBufferPointer { all in
                        for r in 0..<rows.count {
                            var random = sampleRandom(seed: plan.seed, condition: perturbation.name, sample: rows.lowerBound + r)
                            let sample = UnsafeMutableBufferPointer(rebasing: all[(r * features)..<((r + 1) * features)])
                            Noise.apply(perturbation, to: sample, statistics: statistics, vocabulary: vocabulary, random: &random)
                        }
                    }
                }
                try sink?(perturbation.name, rows, x)
                feeds[input.name] = x
                return feeds
            }
            scored.score(labels)
            conditions.append(
                result(
                    name: perturbation.name, kind: perturbation.kind, level: perturbation.level,
                    absolute: { if case .gaussian(_, let a) = perturbation { a } else { nil } }(), dataPath: nil,
                    clean: clean, condition: scored, paired: true, index: index))
        }
        for (offset, shift) in plan.shifted.enumerated() {
            var scored = try shiftedPredictions(shift.data, path: shift.path, referenceRunner, candidateRunner, progress: progress)
            guard scored.classes == classes else {
                throw ModelPressError.invalidArgument("\(shift.path): the models give \(scored.classes) classes on it, \(classes) on the test data")
            }
            let shiftedLabels = shift.data.hasLabels ? try shift.data.labels(0..<shift.data.count, classes: classes) : nil
            if labels != nil, shiftedLabels == nil {
                throw ModelPressError.invalidData(file: shift.path, path: "/", message: "has no labels, and the test data has: accuracy under shift cannot be compared.\nHINT: add the labels under the --y-key name.")
            }
            scored.score(shiftedLabels)
            conditions.append(
                result(
                    name: "shifted_\(shift.name)", kind: .shifted, level: nil, absolute: nil, dataPath: shift.path,
                    clean: clean, condition: scored, paired: false, index: plan.conditions.count + offset))
        }
        return RobustnessSummary(
            attackSource: plan.attackFromCandidate ? "candidate" : "reference", seed: plan.seed, perturbedInput: input.name,
            cleanReferenceAccuracy: clean.referenceAccuracy, cleanCandidateAccuracy: clean.candidateAccuracy,
            conditions: conditions, skipped: skipped)
    }

    /// Why `perturbation` cannot apply to this model (nil when it can).
    private func inapplicability(of perturbation: Perturbation, holdsIds: Bool, input: String) throws -> String? {
        if perturbation.needsRealInput && holdsIds {
            return "the input '\(input)' holds token ids, on which noise and gradients are not defined; use --token-substitution"
        }
        if !perturbation.needsRealInput && !holdsIds { return "the input '\(input)' is real-valued; token substitution applies to token ids" }
        if perturbation.kind.isAdversarial {
            let source = plan.attackFromCandidate ? candidate : reference
            do { _ = try TrainableModel(graph: source.graph, source: source.path) } catch let error as ModelPressError {
                return "gradients need a single-input, single-output classifier (\(error))"
            }
        }
        if perturbation.kind == .tokenSubstitution, (try? tokenVocabulary()) == nil {
            return "no Embedding table reads the input, so the vocabulary to draw ids from is unknown"
        }
        return nil
    }

    /// The attack driven by the reference's (or with `attackFromCandidate`, the candidate's) gradients.
    private func makeAttack(_ statistics: InputStatistics) throws -> AdversarialAttack {
        let source = plan.attackFromCandidate ? candidate : reference
        return AdversarialAttack(model: try TrainableModel(graph: source.graph, source: source.path), lower: statistics.minimum, upper: statistics.maximum)
    }

    /// Rows of the first Embedding table of the reference.
    private func tokenVocabulary() throws -> Int {
        for node in reference.graph.nodes {
            if case .embedding = node.op, node.inputs.count > 1, let rows = reference.graph.shapes[node.inputs[1]]?.first ?? reference.graph.initializers[node.inputs[1]]?.shape.first {
                return rows
            }
        }
        throw ModelPressError.invalidArgument("\(reference.path): no Embedding layer")
    }

    /// Statistics of the perturbed input over the test data.
    private func inputStatistics(_ runner: DatasetRunner) throws -> InputStatistics {
        let input = runner.executor.graph.inputs[0]
        let features = Array(try data.feedShape(for: input.shape, model: reference.path)).reduce(1, *)
        return try InputStatistics(features: features) { body in
            var start = 0
            while start < data.count {
                let rows = start..<min(start + batchSize, data.count)
                guard let x = try data.feeds(rows, for: runner.executor.graph.inputs, model: reference.path)[input.name] else { return }
                try body(x)
                start = rows.upperBound
            }
        }
    }

    /// Top-1 of both models on `data`, each batch's feeds (the reference's) passed through
    /// `perturb` first; the candidate reads the same perturbed values.
    private func predictions(
        _ referenceRunner: DatasetRunner, _ candidateRunner: DatasetRunner, label: String, progress: (String, Int, Int) -> Void,
        perturb: (Range<Int>, [String: Tensor]) throws -> [String: Tensor]
    ) throws -> Scored {
        var scored = Scored()
        let referenceInputs = referenceRunner.executor.graph.inputs, candidateInputs = candidateRunner.executor.graph.inputs
        var start = 0
        while start < data.count {
            let rows = start..<min(start + batchSize, data.count)
            let feeds = try perturb(rows, try data.feeds(rows, for: referenceInputs, model: reference.path))
            var candidateFeeds = try data.feeds(rows, for: candidateInputs, model: candidate.path)
            // The candidate reads the reference's (perturbed) values, input by input in order.
            for (r, c) in zip(referenceInputs, candidateInputs) {
                candidateFeeds[c.name] = try Tensor(shape: candidateFeeds[c.name]!.shape, storage: feeds[r.name]!.storage)
            }
            try scored.add(
                reference: try referenceRunner.executor.run(feeds: feeds, threads: referenceRunner.threads),
                candidate: try candidateRunner.executor.run(feeds: candidateFeeds, threads: candidateRunner.threads),
                models: (reference.path, candidate.path))
            start = rows.upperBound
            progress(label, start, data.count)
        }
        return scored
    }

    /// Top-1 of both models on another test set.
    private func shiftedPredictions(
        _ shifted: any LabelledBatchSource, path: String, _ referenceRunner: DatasetRunner, _ candidateRunner: DatasetRunner,
        progress: (String, Int, Int) -> Void
    ) throws -> Scored {
        var scored = Scored()
        let label = "robustness shifted \(path)"
        try scored.add(
            reference: try referenceRunner.predict(shifted) { progress(label + " (reference)", $0, $1) },
            candidate: try candidateRunner.predict(shifted) { progress(label + " (candidate)", $0, $1) },
            models: (reference.path, candidate.path))
        return scored
    }

    /// A condition's result against the clean scores.
    private func result(
        name: String, kind: ConditionKind, level: Double?, absolute: Bool?, dataPath: String?, clean: Scored, condition: Scored,
        paired: Bool, index: Int
    ) -> ConditionResult {
        var drop: Double?, interval: DropInterval?
        if let cr = clean.referenceAccuracy, let cc = clean.candidateAccuracy, let r = condition.referenceAccuracy, let c = condition.candidateAccuracy {
            drop = (cc - c) - (cr - r)
            if plan.bootstrapResamples > 0 {
                interval = DropInterval(
                    cleanReference: clean.referenceCorrect, cleanCandidate: clean.candidateCorrect,
                    conditionReference: condition.referenceCorrect, conditionCandidate: condition.candidateCorrect,
                    paired: paired, resamples: plan.bootstrapResamples, seed: plan.seed &+ UInt64(index))
            }
        }
        return ConditionResult(
            name: name, kind: kind, level: level, absolute: absolute, dataPath: dataPath, samples: condition.reference.count,
            referenceAccuracy: condition.referenceAccuracy, candidateAccuracy: condition.candidateAccuracy,
            agreement: condition.agreement, robustnessDrop: drop, dropInterval: interval)
    }
}

/// Top-1 predictions of both models on one condition, and their correctness once labelled.
struct Scored {
    var reference: [Int] = []
    var candidate: [Int] = []
    var classes = 0
    var referenceCorrect: [Bool] = []
    var candidateCorrect: [Bool] = []

    /// Appends a batch of N×classes outputs.
    mutating func add(reference r: Tensor, candidate c: Tensor, models: (String, String)) throws {
        guard r.rank == 2, let k = r.shape.last, k >= 2 else {
            throw ModelPressError.invalidArgument("\(models.0): outputs of shape \(r.shape) are not N×classes; robustness is measured on classifiers")
        }
        guard c.shape == r.shape else {
            throw ModelPressError.invalidArgument("\(models.1): outputs have shape \(c.shape); the reference \(models.0) gives \(r.shape)")
        }
        classes = k
        reference += argmaxRows(r)
        candidate += argmaxRows(c)
    }

    /// Marks each prediction right or wrong (nothing without labels).
    mutating func score(_ labels: [Int]?) {
        guard let labels else { return }
        referenceCorrect = zip(reference, labels).map { $0 == $1 }
        candidateCorrect = zip(candidate, labels).map { $0 == $1 }
    }

    /// Top-1 accuracy of the reference (nil without labels).
    var referenceAccuracy: Double? { accuracy(referenceCorrect) }
    /// Top-1 accuracy of the candidate.
    var candidateAccuracy: Double? { accuracy(candidateCorrect) }
    /// Top-1 agreement.
    var agreement: Double { reference.isEmpty ? 0 : Double(zip(reference, candidate).filter { $0 == $1 }.count) / Double(reference.count) }

    private func accuracy(_ correct: [Bool]) -> Double? {
        correct.isEmpty ? nil : Double(correct.filter { $0 }.count) / Double(correct.count)
    }
}
