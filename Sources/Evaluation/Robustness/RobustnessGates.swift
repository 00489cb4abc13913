/// The robustness gates a user asked for; nil means "no such gate".
public struct RobustnessLimits: Sendable, Equatable {
    /// Largest allowed robustness drop under any condition (the candidate's extra accuracy loss, 0…1).
    public var maxRobustnessDrop: Double?
    /// Smallest allowed candidate accuracy under every noise condition (Gaussian, salt-and-pepper,
    /// dropout, token substitution), 0…1.
    public var minNoiseAccuracy: Double?

    /// Limits as given.
    public init(maxRobustnessDrop: Double? = nil, minNoiseAccuracy: Double? = nil) {
        self.maxRobustnessDrop = maxRobustnessDrop
        self.minNoiseAccuracy = minNoiseAccuracy
    }

    /// Whether any gate is asked (they all need labels).
    public var any: Bool { maxRobustnessDrop != nil || minNoiseAccuracy != nil }
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
            if let limit = limits.minNoiseAccuracy, c.kind.isNoise, let accuracy = c.candidateAccuracy {
                let passed = accuracy >= limit - gateSlack
                gates.append(
                    Gate(
                        name: "min_noise_accuracy:\(c.name)", value: accuracy, limit: limit, comparison: ">=", passed: passed,
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
