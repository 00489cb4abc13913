/// What `verify --robustness` measured: both models under each perturbed or shifted
/// condition, next to the clean data. Part of the verify report (`robustness`).
public struct RobustnessSummary: Sendable, Codable, Equatable {
    /// Where FGSM / PGD gradients come from: `reference` (transferred to the candidate).
    public var attackSource: String
    /// Seed of every random draw (noise, salt-and-pepper, token substitution, the bootstrap).
    public var seed: UInt64
    /// The model input the conditions perturb (its name in the reference model).
    public var perturbedInput: String
    /// Top-1 accuracy of the reference and the candidate on the clean data (nil without labels).
    public var cleanReferenceAccuracy: Double?
    /// See `cleanReferenceAccuracy`.
    public var cleanCandidateAccuracy: Double?
    /// One entry per condition measured, in the order asked.
    public var conditions: [ConditionResult]
    /// Conditions asked for by default that make no sense for this model, with the reason.
    public var skipped: [SkippedCondition]

    enum CodingKeys: String, CodingKey {
        case attackSource = "attack_source", seed, perturbedInput = "perturbed_input"
        case cleanReferenceAccuracy = "clean_reference_accuracy", cleanCandidateAccuracy = "clean_candidate_accuracy"
        case conditions, skipped
    }

    /// A summary of `conditions`.
    public init(
        attackSource: String, seed: UInt64, perturbedInput: String, cleanReferenceAccuracy: Double?,
        cleanCandidateAccuracy: Double?, conditions: [ConditionResult], skipped: [SkippedCondition]
    ) {
        self.attackSource = attackSource
        self.seed = seed
        self.perturbedInput = perturbedInput
        self.cleanReferenceAccuracy = cleanReferenceAccuracy
        self.cleanCandidateAccuracy = cleanCandidateAccuracy
        self.conditions = conditions
        self.skipped = skipped
    }
}

/// A condition that was not measured, and why.
public struct SkippedCondition: Sendable, Codable, Equatable {
    /// The condition's name (`fgsm_eps_0.01`).
    public var name: String
    /// Why it does not apply (`the input holds token ids: …`).
    public var reason: String

    /// A skipped condition.
    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
}

/// How a condition changes the test data.
public enum ConditionKind: String, Sendable, Codable, CaseIterable {
    /// Gaussian noise added to every feature.
    case gaussian
    /// Each feature set to the data's minimum or maximum with a probability.
    case saltAndPepper = "salt_and_pepper"
    /// Each feature set to zero with a probability.
    case dropout
    /// Fast gradient sign method, one step of ε.
    case fgsm
    /// Projected gradient descent (iterated FGSM within an ε ball).
    case pgd
    /// Token ids replaced by random ids with a probability.
    case tokenSubstitution = "token_substitution"
    /// Another test set (distribution shift).
    case shifted

    /// Whether the condition is random noise (what `--min-noise-accuracy` judges).
    public var isNoise: Bool { self == .gaussian || self == .saltAndPepper || self == .dropout || self == .tokenSubstitution }
    /// Whether the condition is a gradient attack.
    public var isAdversarial: Bool { self == .fgsm || self == .pgd }
}

/// Both models under one condition.
public struct ConditionResult: Sendable, Codable, Equatable {
    /// Unique name, e.g. `gaussian_sigma_0.1`, `fgsm_eps_0.03`, `shifted_rotated`.
    public var name: String
    /// The kind of perturbation.
    public var kind: ConditionKind
    /// σ, ε or the rate; nil for a shifted test set.
    public var level: Double?
    /// For Gaussian noise: whether σ is in the input's units (else relative to each feature's std).
    public var absolute: Bool?
    /// For shifted data: the file.
    public var dataPath: String?
    /// Samples scored.
    public var samples: Int
    /// Top-1 accuracy of the reference under the condition (nil without labels).
    public var referenceAccuracy: Double?
    /// Top-1 accuracy of the candidate under the condition.
    public var candidateAccuracy: Double?
    /// Top-1 agreement between the two models under the condition.
    public var agreement: Double
    /// (clean − condition accuracy of the candidate) − (the same for the reference): how much
    /// more the candidate loses than the reference. Positive: the candidate is more fragile.
    public var robustnessDrop: Double?
    /// Paired bootstrap interval of `robustnessDrop`.
    public var dropInterval: DropInterval?

    enum CodingKeys: String, CodingKey {
        case name, kind, level, absolute, dataPath = "data_path", samples
        case referenceAccuracy = "reference_accuracy", candidateAccuracy = "candidate_accuracy", agreement
        case robustnessDrop = "robustness_drop", dropInterval = "drop_interval"
    }

    /// A condition's scores.
    public init(
        name: String, kind: ConditionKind, level: Double?, absolute: Bool? = nil, dataPath: String? = nil, samples: Int,
        referenceAccuracy: Double?, candidateAccuracy: Double?, agreement: Double, robustnessDrop: Double?,
        dropInterval: DropInterval?
    ) {
        self.name = name
        self.kind = kind
        self.level = level
        self.absolute = absolute
        self.dataPath = dataPath
        self.samples = samples
        self.referenceAccuracy = referenceAccuracy
        self.candidateAccuracy = candidateAccuracy
        self.agreement = agreement
        self.robustnessDrop = robustnessDrop
        self.dropInterval = dropInterval
    }
}
