/// The result of `modelpress verify`: both models' metrics, how they differ, the bootstrap
/// interval and the gate verdicts. Encoded as JSON schema version 1 (docs/ci.md).
public struct VerificationReport: Sendable, Codable {
    /// Version of the JSON layout; bumped when a field changes meaning or disappears.
    public var schemaVersion = 1
    /// Whether every gate held (true when no gate was requested).
    public var passed: Bool
    /// `"classification"` (N×classes outputs) or `"regression"` (anything else: drift only).
    public var task: String
    /// The test data.
    public var data: DataSummary
    /// Metrics of the reference model.
    public var reference: ModelSummary
    /// Metrics of the candidate model.
    public var candidate: ModelSummary
    /// Top-1 agreement between the models (classification only).
    public var agreement: Double?
    /// Mean KL(reference‖candidate) in nats over the probability view (classification only).
    public var meanKL: Double?
    /// Raw output drift (always measured).
    public var drift: OutputDrift
    /// Paired bootstrap CI of candidate − reference accuracy (needs labels).
    public var bootstrap: PairedBootstrap?
    /// Gate verdicts in a fixed order.
    public var gates: [Gate]
    /// Things a reader should know (softmax applied, classes skipped in ROC-AUC, …).
    public var notes: [String]
    /// The tool that wrote the report, e.g. `modelpress 0.1.0`.
    public var producer: String
    /// Both models under noise, attacks and shifted data (`verify --robustness`), else nil.
    public var robustness: RobustnessSummary?

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", passed, task, data, reference, candidate, agreement
        case meanKL = "mean_kl", drift, bootstrap, gates, notes, producer, robustness
    }
}

/// The dataset a verification ran on.
public struct DataSummary: Sendable, Codable, Equatable {
    /// Dataset file path as given.
    public var path: String
    /// Input dataset name.
    public var xKey: String
    /// Label dataset name, nil when the file has no labels.
    public var yKey: String?
    /// Number of samples.
    public var samples: Int
    /// Output shape of both models (batch dimension first).
    public var outputShape: [Int]

    enum CodingKeys: String, CodingKey { case path, xKey = "x_key", yKey = "y_key", samples, outputShape = "output_shape" }

    /// A summary of the data and the outputs' shape.
    public init(path: String, xKey: String, yKey: String?, samples: Int, outputShape: [Int]) {
        self.path = path
        self.xKey = xKey
        self.yKey = yKey
        self.samples = samples
        self.outputShape = outputShape
    }
}

/// One model's metrics on the test data (label-based fields are nil without labels).
public struct ModelSummary: Sendable, Codable, Equatable {
    /// Model file path as given.
    public var path: String
    /// Top-1 accuracy.
    public var accuracy: Double?
    /// Top-5 accuracy (only with at least 5 classes).
    public var top5Accuracy: Double?
    /// Unweighted mean F1 over the classes present in labels or predictions.
    public var macroF1: Double?
    /// Precision, recall, F1 and support per class.
    public var perClass: [ClassScores]?
    /// ROC-AUC (binary, or one-vs-rest macro).
    public var rocAUC: ROCAUCSummary?
    /// Whether the outputs went through softmax before KL / ROC-AUC (they were not probabilities).
    public var softmaxApplied: Bool?

    enum CodingKeys: String, CodingKey {
        case path, accuracy, top5Accuracy = "top5_accuracy", macroF1 = "macro_f1", perClass = "per_class"
        case rocAUC = "roc_auc", softmaxApplied = "softmax_applied"
    }
}
