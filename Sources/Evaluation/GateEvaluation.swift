/// One verification gate: a measured value held against a limit.
public struct Gate: Sendable, Equatable, Codable {
    /// Gate name: `max_drop`, `max_relative_drop`, `min_agreement` or `max_kl`.
    public var name: String
    /// The measured value.
    public var value: Double
    /// The limit from the command line.
    public var limit: Double
    /// `"<="` (value must not exceed the limit) or `">="` (must reach it).
    public var comparison: String
    /// Whether the value is within the limit.
    public var passed: Bool
    /// What was measured, for people (`accuracy drop 0.0123 > 0.0100`).
    public var message: String
}

/// The limits a user asked for; nil means "no such gate".
public struct GateLimits: Sendable, Equatable {
    /// Largest allowed accuracy drop, reference − candidate (absolute, 0…1).
    public var maxDrop: Double?
    /// Largest allowed drop relative to the reference accuracy, (ref − cand) / ref.
    public var maxRelativeDrop: Double?
    /// Smallest allowed top-1 agreement, 0…1.
    public var minAgreement: Double?
    /// Largest allowed mean KL(reference‖candidate), nats.
    public var maxKL: Double?

    /// Limits as given (nil: gate off).
    public init(maxDrop: Double? = nil, maxRelativeDrop: Double? = nil, minAgreement: Double? = nil, maxKL: Double? = nil) {
        self.maxDrop = maxDrop
        self.maxRelativeDrop = maxRelativeDrop
        self.minAgreement = minAgreement
        self.maxKL = maxKL
    }

    /// Whether an accuracy gate is requested (those need labels).
    public var needsLabels: Bool { maxDrop != nil || maxRelativeDrop != nil }
    /// Whether a gate compares class outputs (agreement, KL).
    public var needsClasses: Bool { minAgreement != nil || maxKL != nil }
}

/// Values are compared with this slack, so float noise (0.1 − 0.1 = 1e-17) never fails a gate.
let gateSlack = 1e-12

/// The gates `limits` asks for, evaluated on the measured values (nil values skip a gate;
/// the caller refuses such requests up front).
public func evaluateGates(
    _ limits: GateLimits, referenceAccuracy: Double?, candidateAccuracy: Double?,
    agreement: Double?, meanKL: Double?
) -> [Gate] {
    var gates: [Gate] = []
    func atMost(_ name: String, _ what: String, _ value: Double?, _ limit: Double?) {
        guard let value, let limit else { return }
        let passed = value <= limit + gateSlack
        gates.append(
            Gate(
                name: name, value: value, limit: limit, comparison: "<=", passed: passed,
                message: "\(what) \(format(value)) \(passed ? "<=" : ">") \(format(limit))"))
    }
    func atLeast(_ name: String, _ what: String, _ value: Double?, _ limit: Double?) {
        guard let value, let limit else { return }
        let passed = value >= limit - gateSlack
        gates.append(
            Gate(
                name: name, value: value, limit: limit, comparison: ">=", passed: passed,
                message: "\(what) \(format(value)) \(passed ? ">=" : "<") \(format(limit))"))
    }
    if let r = referenceAccuracy, let c = candidateAccuracy {
        atMost("max_drop", "accuracy drop", r - c, limits.maxDrop)
        atMost("max_relative_drop", "relative accuracy drop", r > 0 ? (r - c) / r : 0, limits.maxRelativeDrop)
    }
    atLeast("min_agreement", "top-1 agreement", agreement, limits.minAgreement)
    atMost("max_kl", "mean KL(reference‖candidate)", meanKL, limits.maxKL)
    return gates
}

/// A number with 4 significant decimals for messages.
func format(_ value: Double) -> String {
    let scaled = (value * 10_000).rounded() / 10_000
    return value != 0 && abs(value) < 1e-4 ? "\(value)" : "\(scaled)"
}
