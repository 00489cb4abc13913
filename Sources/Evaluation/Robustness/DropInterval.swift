/// A bootstrap confidence interval of a robustness drop,
/// `mean_clean(c − r) − mean_condition(c − r)` where `c`, `r` are per-sample correctness
/// (1/0) of candidate and reference. Perturbed copies of the test set are paired with it
/// (one resample of sample indices serves both terms); another test set is resampled on
/// its own.
public struct DropInterval: Sendable, Codable, Equatable {
    /// Lower end (the `(1 − confidence)/2` quantile of resampled drops).
    public var lower: Double
    /// Upper end.
    public var upper: Double
    /// Confidence level, e.g. 0.95.
    public var confidence: Double
    /// Number of resamples.
    public var resamples: Int

    enum CodingKeys: String, CodingKey { case lower = "ci_lower", upper = "ci_upper", confidence, resamples }

    /// The interval for correctness on the clean set and under the condition. `paired`: the
    /// condition's samples are the clean samples perturbed (equal counts, same order).
    public init(
        cleanReference: [Bool], cleanCandidate: [Bool], conditionReference: [Bool], conditionCandidate: [Bool],
        paired: Bool, resamples: Int = 1000, confidence: Double = 0.95, seed: UInt64 = 0
    ) {
        func differences(_ r: [Bool], _ c: [Bool]) -> [Int] { zip(r, c).map { ($1 ? 1 : 0) - ($0 ? 1 : 0) } }
        let clean = differences(cleanReference, cleanCandidate)
        let condition = differences(conditionReference, conditionCandidate)
        let n = clean.count, m = condition.count
        var generator = SplitMix64(seed: seed)
        var drops: [Double] = []
        if n > 0, m > 0 {
            drops.reserveCapacity(max(0, resamples))
            for _ in 0..<max(0, resamples) {
                var cleanSum = 0, conditionSum = 0
                if paired && n == m {
                    for _ in 0..<n {
                        let i = generator.index(below: n)
                        cleanSum += clean[i]
                        conditionSum += condition[i]
                    }
                } else {
                    for _ in 0..<n { cleanSum += clean[generator.index(below: n)] }
                    for _ in 0..<m { conditionSum += condition[generator.index(below: m)] }
                }
                drops.append(Double(cleanSum) / Double(n) - Double(conditionSum) / Double(m))
            }
        }
        drops.sort()
        let observed = n > 0 && m > 0 ? Double(clean.reduce(0, +)) / Double(n) - Double(condition.reduce(0, +)) / Double(m) : 0
        lower = quantile(drops, (1 - confidence) / 2) ?? observed
        upper = quantile(drops, (1 + confidence) / 2) ?? observed
        self.confidence = confidence
        self.resamples = drops.count
    }
}
