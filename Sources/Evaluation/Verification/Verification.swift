import TensorCore

/// Settings of a verification besides the two models' outputs.
public struct VerificationSettings: Sendable {
    /// Gate limits.
    public var limits: GateLimits
    /// Bootstrap resamples (0: no interval).
    public var bootstrapResamples: Int
    /// Bootstrap seed.
    public var seed: UInt64
    /// Written into the report's `producer`.
    public var producer: String

    /// Settings with the given limits, 1000 resamples and seed 0 by default.
    public init(limits: GateLimits, bootstrapResamples: Int = 1000, seed: UInt64 = 0, producer: String = "modelpress") {
        self.limits = limits
        self.bootstrapResamples = bootstrapResamples
        self.seed = seed
        self.producer = producer
    }
}

extension VerificationReport {
    /// Compares `reference` and `candidate` outputs (same shape, batch first) on `labels`
    /// (nil without labels). N×classes outputs (classes ≥ 2) are scored as a classifier;
    /// any other shape only as output drift. Gates that cannot be measured are left out —
    /// callers refuse such requests before running the models.
    public static func compare(
        reference: Tensor, candidate: Tensor, labels: [Int]?, data: DataSummary,
        referencePath: String, candidatePath: String,
        settings: VerificationSettings
    ) -> VerificationReport {
        let drift = OutputDrift(reference: reference.storage, candidate: candidate.storage)
        var notes: [String] = []
        var ref = ModelSummary(path: referencePath)
        var cand = ModelSummary(path: candidatePath)
        guard reference.rank == 2, let classes = reference.shape.last, classes >= 2 else {
            notes.append("outputs of shape \(reference.shape) are not N×classes: only output drift (MSE/MAE) is measured")
            return VerificationReport(
                passed: true, task: "regression", data: data, reference: ref, candidate: cand,
                agreement: nil, meanKL: nil, drift: drift, bootstrap: nil, gates: [],
                notes: notes, producer: settings.producer)
        }
        let refTop1 = argmaxRows(reference), candTop1 = argmaxRows(candidate)
        let refProbabilities = ProbabilityView(outputs: reference.storage, classes: classes)
        let candProbabilities = ProbabilityView(outputs: candidate.storage, classes: classes)
        for (name, view) in [("reference", refProbabilities), ("candidate", candProbabilities)] where view.softmaxApplied {
            notes.append("\(name) outputs are not probabilities (a negative value or a row not summing to 1 within 1e-3): softmax applied before KL and ROC-AUC")
        }
        ref.softmaxApplied = refProbabilities.softmaxApplied
        cand.softmaxApplied = candProbabilities.softmaxApplied
        let agreement = ComparisonMetrics.agreement(refTop1, candTop1)
        let meanKL = ComparisonMetrics.meanKL(refProbabilities.values, candProbabilities.values, classes: classes)
        var bootstrap: PairedBootstrap?
        if let labels {
            ref.fill(outputs: reference, top1: refTop1, probabilities: refProbabilities, labels: labels, classes: classes)
            cand.fill(outputs: candidate, top1: candTop1, probabilities: candProbabilities, labels: labels, classes: classes)
            if let skipped = ref.rocAUC?.skippedClasses, !skipped.isEmpty {
                notes.append("classes \(skipped) have no positive or no negative sample in the labels: left out of ROC-AUC")
            }
            if settings.bootstrapResamples > 0 {
                bootstrap = PairedBootstrap(
                    referenceCorrect: zip(refTop1, labels).map { $0 == $1 },
                    candidateCorrect: zip(candTop1, labels).map { $0 == $1 },
                    resamples: settings.bootstrapResamples, seed: settings.seed)
            }
        } else {
            notes.append("no labels: accuracy, F1, ROC-AUC and the bootstrap interval are not measured")
        }
        let gates = evaluateGates(
            settings.limits, referenceAccuracy: ref.accuracy, candidateAccuracy: cand.accuracy,
            agreement: agreement, meanKL: meanKL)
        return VerificationReport(
            passed: gates.allSatisfy(\.passed), task: "classification", data: data,
            reference: ref, candidate: cand, agreement: agreement, meanKL: meanKL, drift: drift,
            bootstrap: bootstrap, gates: gates, notes: notes, producer: settings.producer)
    }
}

extension ModelSummary {
    /// A summary with only the path filled in.
    public init(path: String) { self.path = path }

    /// Fills the label-based metrics from N×classes `outputs`.
    mutating func fill(outputs: Tensor, top1: [Int], probabilities: ProbabilityView, labels: [Int], classes: Int) {
        var metrics = ClassificationMetrics(classes: classes)
        metrics.add(scores: outputs, labels: labels)
        accuracy = metrics.accuracy
        top5Accuracy = classes >= 5 ? metrics.top5Accuracy : nil
        let confusion = ConfusionMatrix(labels: labels, predictions: top1, classes: classes)
        perClass = confusion.perClass
        macroF1 = confusion.macroF1
        rocAUC = ROCAUCSummary(probabilities: probabilities.values, labels: labels, classes: classes)
    }
}
