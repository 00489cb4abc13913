/// The robustness gates a user asked for; nil means "no such gate".
public struct RobustnessLimits: Sendable, Equatable {
    /// Largest allowed robustness drop under any condition (the candidate's extra accuracy loss, 0…1).
    public var maxRobustnessDrop: Double?
    /// Smallest allowed candidate accuracy under every noise condition (Gaussian, salt-and-pepper,
    /// dropout, token substitution), 0…1.
    public var minNoiseAccuracy: Double?
    /// Smallest allowed candidate accuracy under every attack (FGSM, PGD), 0…1.
    public var minAdversarialAccuracy: Double?
    /// Smallest allowed candidate accuracy on every shifted test set, 0…1.
    public var minShiftedAccuracy: Double?

    /// Limits as given.
    public init(
        maxRobustnessDrop: Double? = nil, minNoiseAccuracy: Double? = nil, minAdversarialAccuracy: Double? = nil,
        minShiftedAccuracy: Double? = nil
    ) {
        self.maxRobustnessDrop = maxRobustnessDrop
        self.minNoiseAccuracy = minNoiseAccuracy
        self.minAdversarialAccuracy = minAdversarialAccuracy
        self.minShiftedAccuracy = minShiftedAccuracy
    }

    /// Whether any gate is asked (they all need labels).
    public var any: Bool { maxRobustnessDrop != nil || minNoiseAccuracy != nil || minAdversarialAccuracy != nil || minShiftedAccuracy != nil }

    /// The smallest candidate accuracy allowed under a condition of `kind`, and the gate's name.
    func minimumAccuracy(_ kind: ConditionKind) -> (name: String, limit: Double)? {
        if kind.isNoise { return minNoiseAccuracy.map { ("min_noise_accuracy", $0) } }
        if kind.isAdversarial { return minAdversarialAccuracy.map { ("min_adversarial_accuracy", $0) } }
        return minShiftedAccuracy.map { ("min_shifted_accuracy", $0) }
    }
}

extension RobustnessSummary {
    /// One gate per condition and limit, named `<gate>:<condition>` (a JUnit case each).
    public func gates(_ limits: RobustnessLimits) -> [Gate] {
        var gates: [Gate] = []
        for c in conditions {
            if let limit = limits.maxRobustnessDrop, let drop = c.robustnessDrop {
                let passed = drop <= limit + gateSlack
                gates.append(
                    Gate(
                        name: "max_robustness_drop:\(c.name)", value: drop, limit: limit, comparison: "<=", passed: passed,
                        message: "\(c.name): robustness drop \(format(drop)) \(passed ? "<=" : ">") \(format(limit))"))
            }
            if let (name, limit) = limits.minimumAccuracy(c.kind), let accuracy = c.candidateAccuracy {
                let passed = accuracy >= limit - gateSlack
                gates.append(
                    Gate(
                        name: "\(name):\(c.name)", value: accuracy, limit: limit, comparison: ">=", passed: passed,
                        message: "\(c.name): candidate accuracy \(format(accuracy)) \(passed ? ">=" : "<") \(format(limit))"))
            }
        }
        return gates
    }
}

extension VerificationReport {
    /// Adds the robustness measurements and their gates under `limits`.
    public mutating func attach(_ robustness: RobustnessSummary, limits: RobustnessLimits) {
        self.robustness = robustness
        let added = robustness.gates(limits)
        gates += added
        passed = passed && added.allSatisfy(\.passed)
    }
}
