/// A paired bootstrap confidence interval of the accuracy difference (candidate − reference):
/// resample the test samples with replacement, score both models on the same resample.
public struct PairedBootstrap: Sendable, Equatable, Codable {
    /// Observed accuracy difference on the full test set.
    public var difference: Double
    /// Lower end of the interval (the `(1 − confidence)/2` quantile of resampled differences).
    public var lower: Double
    /// Upper end of the interval (the `(1 + confidence)/2` quantile).
    public var upper: Double
    /// Confidence level, e.g. 0.95.
    public var confidence: Double
    /// Number of resamples.
    public var resamples: Int
    /// Seed of the resampling generator.
    public var seed: UInt64

    enum CodingKeys: String, CodingKey {
        case difference, lower = "ci_lower", upper = "ci_upper", confidence, resamples, seed
    }

    /// The interval for per-sample correctness of both models (equal lengths, non-empty),
    /// deterministic for a given `seed`. Quantiles interpolate linearly (NumPy's default).
    public init(
        referenceCorrect: [Bool], candidateCorrect: [Bool], resamples: Int = 1000,
        confidence: Double = 0.95, seed: UInt64 = 0
    ) {
        let n = min(referenceCorrect.count, candidateCorrect.count)
        // Per-sample difference in {−1, 0, 1}: a resample's accuracy difference is their mean.
        let delta = (0..<n).map { (candidateCorrect[$0] ? 1 : 0) - (referenceCorrect[$0] ? 1 : 0) }
        difference = n == 0 ? 0 : Double(delta.reduce(0, +)) / Double(n)
        var generator = SplitMix64(seed: seed)
        var samples: [Double] = []
        samples.reserveCapacity(resamples)
        if n > 0 {
            for _ in 0..<max(0, resamples) {
                var sum = 0
                for _ in 0..<n { sum += delta[generator.index(below: n)] }
                samples.append(Double(sum) / Double(n))
            }
        }
        samples.sort()
        lower = quantile(samples, (1 - confidence) / 2) ?? difference
        upper = quantile(samples, (1 + confidence) / 2) ?? difference
        self.confidence = confidence
        self.resamples = samples.count
        self.seed = seed
    }
}

/// The `q` quantile of sorted `values` with linear interpolation; nil when empty.
func quantile(_ values: [Double], _ q: Double) -> Double? {
    guard let first = values.first else { return nil }
    let position = min(max(q, 0), 1) * Double(values.count - 1)
    let low = Int(position.rounded(.down)), high = min(low + 1, values.count - 1)
    let weight = position - Double(low)
    return values.count == 1 ? first : values[low] * (1 - weight) + values[high] * weight
}

/// SplitMix64: a small, fast, platform-independent generator, so a seed gives the same
/// resamples everywhere (the standard library's generators make no such promise).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (multiply-high, bias below 2⁻³² for test-set sizes).
    mutating func index(below bound: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
