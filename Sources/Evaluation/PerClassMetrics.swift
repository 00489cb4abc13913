/// Precision, recall and F1 of one class, from a confusion matrix.
public struct ClassScores: Sendable, Equatable, Codable {
    /// Class index.
    public var label: Int
    /// TP / (TP + FP); 0 when the class is never predicted.
    public var precision: Double
    /// TP / (TP + FN); 0 when the class never occurs in the labels.
    public var recall: Double
    /// Harmonic mean of precision and recall; 0 when both are 0.
    public var f1: Double
    /// How many samples carry this label.
    public var support: Int

    enum CodingKeys: String, CodingKey { case label = "class", precision, recall, f1, support }
}

/// A `classes × classes` confusion matrix: `counts[label][predicted]`.
public struct ConfusionMatrix: Sendable, Equatable {
    /// Number of classes.
    public let classes: Int
    /// `counts[label][predicted]` samples.
    public private(set) var counts: [[Int]]

    /// An empty matrix over `classes` classes.
    public init(classes: Int) {
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    }

    /// The matrix of `labels` against `predictions` (equal lengths, indices in `0..<classes`).
    public init(labels: [Int], predictions: [Int], classes: Int) {
        self.init(classes: classes)
        for (label, predicted) in zip(labels, predictions) { add(label: label, predicted: predicted) }
    }

    /// Counts one sample; indices outside `0..<classes` are ignored.
    public mutating func add(label: Int, predicted: Int) {
        guard (0..<classes).contains(label), (0..<classes).contains(predicted) else { return }
        counts[label][predicted] += 1
    }

    /// Per-class precision, recall, F1 and support (zero divisions give 0, as scikit-learn's
    /// `zero_division=0`).
    public var perClass: [ClassScores] {
        (0..<classes).map { c in
            let tp = counts[c][c]
            let support = counts[c].reduce(0, +)
            let predicted = counts.reduce(0) { $0 + $1[c] }
            let precision = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let recall = support == 0 ? 0 : Double(tp) / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return ClassScores(label: c, precision: precision, recall: recall, f1: f1, support: support)
        }
    }

    /// Unweighted mean F1 over the classes that occur in the labels or the predictions
    /// (scikit-learn's `f1_score(average="macro")` convention); 0 for an empty matrix.
    public var macroF1: Double {
        let scores = perClass.filter { s in s.support > 0 || counts.contains { $0[s.label] > 0 } }
        return scores.isEmpty ? 0 : scores.map(\.f1).reduce(0, +) / Double(scores.count)
    }
}
