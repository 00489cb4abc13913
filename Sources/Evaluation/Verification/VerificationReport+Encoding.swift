/// Explicit encoders, so absent metrics are written as `null` instead of being left out:
/// every key of schema version 1 is always present.
extension VerificationReport {
    /// Encodes every key, absent values as `null`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schemaVersion, forKey: .schemaVersion)
        try c.encode(passed, forKey: .passed)
        try c.encode(task, forKey: .task)
        try c.encode(data, forKey: .data)
        try c.encode(reference, forKey: .reference)
        try c.encode(candidate, forKey: .candidate)
        try c.encode(agreement, forKey: .agreement)
        try c.encode(meanKL, forKey: .meanKL)
        try c.encode(drift, forKey: .drift)
        try c.encode(bootstrap, forKey: .bootstrap)
        try c.encode(gates, forKey: .gates)
        try c.encode(notes, forKey: .notes)
        try c.encode(producer, forKey: .producer)
        try c.encode(robustness, forKey: .robustness)
    }
}

extension ModelSummary {
    /// Encodes every key, absent values as `null`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(accuracy, forKey: .accuracy)
        try c.encode(top5Accuracy, forKey: .top5Accuracy)
        try c.encode(macroF1, forKey: .macroF1)
        try c.encode(perClass, forKey: .perClass)
        try c.encode(rocAUC, forKey: .rocAUC)
        try c.encode(softmaxApplied, forKey: .softmaxApplied)
    }
}

extension DataSummary {
    /// Encodes every key, an absent label key as `null`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(xKey, forKey: .xKey)
        try c.encode(yKey, forKey: .yKey)
        try c.encode(samples, forKey: .samples)
        try c.encode(outputShape, forKey: .outputShape)
    }
}

extension ROCAUCSummary {
    /// Encodes every key, an absent AUC as `null`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(value, forKey: .value)
        try c.encode(perClass, forKey: .perClass)
        try c.encode(skippedClasses, forKey: .skippedClasses)
    }
}
