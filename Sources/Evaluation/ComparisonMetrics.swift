import Foundation

/// How far a candidate's outputs drift from a reference's on the same inputs.
public struct OutputDrift: Sendable, Equatable, Codable {
    /// Largest |candidate − reference| over all output values.
    public var maxAbsDifference: Double
    /// Mean |candidate − reference| (= MAE).
    public var meanAbsDifference: Double
    /// Mean (candidate − reference)².
    public var meanSquaredError: Double

    enum CodingKeys: String, CodingKey {
        case maxAbsDifference = "max_abs_diff", meanAbsDifference = "mean_abs_diff", meanSquaredError = "mse"
    }

    /// Drift between two equally long output arrays (raw outputs, no softmax).
    public init(reference: [Float], candidate: [Float]) {
        var maxAbs = 0.0, sumAbs = 0.0, sumSquares = 0.0
        for (r, c) in zip(reference, candidate) {
            let d = Double(c) - Double(r)
            maxAbs = max(maxAbs, abs(d))
            sumAbs += abs(d)
            sumSquares += d * d
        }
        let n = Double(max(1, min(reference.count, candidate.count)))
        maxAbsDifference = maxAbs
        meanAbsDifference = sumAbs / n
        meanSquaredError = sumSquares / n
    }
}

/// Agreement and divergence between two classifiers' outputs on the same samples.
public enum ComparisonMetrics {
    /// Fraction of rows whose top-1 class (first on ties) is the same in both.
    public static func agreement(_ reference: [Int], _ candidate: [Int]) -> Double {
        guard !reference.isEmpty else { return 0 }
        return Double(zip(reference, candidate).filter { $0 == $1 }.count) / Double(reference.count)
    }

    /// Probabilities below this are clamped in the logarithm, so KL stays finite.
    public static let probabilityFloor = 1e-12

    /// Mean over rows of KL(p‖q) = Σ p·ln(p/q) in nats; `p`, `q` N×classes probabilities.
    /// Terms with p = 0 contribute 0; q is clamped to `probabilityFloor`.
    public static func meanKL(_ p: [Float], _ q: [Float], classes: Int) -> Double {
        let rows = min(p.count, q.count) / max(1, classes)
        guard rows > 0 else { return 0 }
        var total = 0.0
        for i in 0..<(rows * classes) where p[i] > 0 {
            let pi = Double(p[i])
            total += pi * (log(pi) - log(max(Double(q[i]), probabilityFloor)))
        }
        // KL ≥ 0; rounding in probabilities that sum to 1 only within float precision can dip below.
        return max(0, total / Double(rows))
    }
}
