/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting ½ (the Mann–Whitney U statistic divided by `P·N`).
public enum ROCAUC {
    /// Binary AUC of `scores` against `positives`; nil when either class is absent.
    ///
    /// Computed from mid-ranks: `AUC = (Σ rank(positive) − P(P+1)/2) / (P·N)`, where tied scores
    /// share the mean of their ranks, so ties count ½. O(n log n).
    public static func binary(scores: [Double], positives: [Bool]) -> Double? {
        let p = positives.lazy.filter { $0 }.count, n = positives.count - p
        guard p > 0, n > 0, scores.count == positives.count else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let midRank = Double(i + j) / 2 + 1  // ranks are 1-based
            for k in i...j where positives[order[k]] { rankSum += midRank }
            i = j + 1
        }
        return (rankSum - Double(p) * Double(p + 1) / 2) / (Double(p) * Double(n))
    }

    /// One-vs-rest AUC of each class: `probabilities` is N×classes row-major, `labels` N
    /// indices. Classes absent from the labels (or present in every row) get nil.
    public static func oneVsRest(probabilities: [Float], labels: [Int], classes: Int) -> [Double?] {
        (0..<classes).map { c in
            let scores = labels.indices.map { Double(probabilities[$0 * classes + c]) }
            return binary(scores: scores, positives: labels.map { $0 == c })
        }
    }
}

/// ROC-AUC summary of a classifier: binary (class 1's score) for two classes, else the
/// unweighted mean one-vs-rest AUC over classes that occur in the labels.
public struct ROCAUCSummary: Sendable, Equatable, Codable {
    /// `"binary"` or `"ovr_macro"`.
    public var kind: String
    /// The AUC; nil when no class has both positives and negatives.
    public var value: Double?
    /// Per-class one-vs-rest AUC (nil for a class that is absent from the labels).
    public var perClass: [Double?]
    /// Classes left out of the macro mean (no positive or no negative sample).
    public var skippedClasses: [Int]

    enum CodingKeys: String, CodingKey {
        case kind, value, perClass = "per_class", skippedClasses = "skipped_classes"
    }

    /// AUC of N×classes `probabilities` against `labels`.
    public init(probabilities: [Float], labels: [Int], classes: Int) {
        let scores = ROCAUC.oneVsRest(probabilities: probabilities, labels: labels, classes: classes)
        perClass = scores
        skippedClasses = scores.indices.filter { scores[$0] == nil }
        if classes == 2 {
            kind = "binary"
            value = scores[1]
        } else {
            kind = "ovr_macro"
            let present = scores.compactMap { $0 }
            value = present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
        }
    }
}
