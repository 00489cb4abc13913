import TensorCore

/// Streaming top-1 / top-5 accuracy over batches of N×classes scores.
public struct ClassificationMetrics: Sendable {
    /// Samples seen.
    public private(set) var samples = 0
    /// Samples whose highest score is the label.
    public private(set) var top1Correct = 0
    /// Samples whose label is among the 5 highest scores.
    public private(set) var top5Correct = 0
    /// Number of classes (output width).
    public let classes: Int

    /// Metrics for outputs with `classes` columns.
    public init(classes: Int) { self.classes = classes }

    /// Top-1 accuracy in 0…1.
    public var accuracy: Double { samples == 0 ? 0 : Double(top1Correct) / Double(samples) }
    /// Top-5 accuracy in 0…1 (meaningful when `classes >= 5`).
    public var top5Accuracy: Double { samples == 0 ? 0 : Double(top5Correct) / Double(samples) }

    /// Adds a batch: `scores` is N×classes, `labels` has N entries.
    public mutating func add(scores: Tensor, labels: [Int]) {
        scores.storage.withUnsafeBufferPointer { p in
            for (i, label) in labels.enumerated() {
                let row = p.baseAddress! + i * classes
                let target = row[label]
                // Rank of the label = how many classes score strictly higher (ties go to the
                // lowest index, as argmax does).
                var higher = 0
                for c in 0..<classes where row[c] > target || (row[c] == target && c < label) { higher += 1 }
                if higher == 0 { top1Correct += 1 }
                if higher < 5 { top5Correct += 1 }
            }
        }
        samples += labels.count
    }
}

/// Index of the largest value in each row of an N×classes tensor (first on ties).
public func argmaxRows(_ scores: Tensor) -> [Int] {
    let classes = scores.shape.last ?? 1
    return scores.storage.withUnsafeBufferPointer { p in
        (0..<(scores.count / max(1, classes))).map { r in
            var best = 0
            for c in 1..<classes where p[r * classes + c] > p[r * classes + best] { best = c }
            return best
        }
    }
}
