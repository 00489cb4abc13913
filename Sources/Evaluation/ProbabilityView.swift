import Foundation

/// Model outputs as class probabilities: used as they are when every row is already a
/// probability simplex, otherwise passed through a row-wise softmax (logits).
public struct ProbabilityView: Sendable {
    /// N×classes probabilities, row-major.
    public let values: [Float]
    /// Whether softmax was applied (the outputs were not a probability simplex).
    public let softmaxApplied: Bool

    /// Rows sum to 1 within this tolerance to count as probabilities.
    public static let tolerance = 1e-3

    /// The probability view of N×`classes` `outputs` (row-major).
    public init(outputs: [Float], classes: Int) {
        if Self.isSimplex(outputs, classes: classes) {
            values = outputs
            softmaxApplied = false
        } else {
            values = softmaxRows(outputs, classes: classes)
            softmaxApplied = true
        }
    }

    /// True when no value is negative and every row sums to 1 within `tolerance`.
    public static func isSimplex(_ outputs: [Float], classes: Int) -> Bool {
        guard classes > 0 else { return false }
        var row = 0
        while row * classes < outputs.count {
            var sum = 0.0
            for v in outputs[(row * classes)..<min(outputs.count, (row + 1) * classes)] {
                guard v >= 0 else { return false }  // also refuses NaN
                sum += Double(v)
            }
            guard abs(sum - 1) <= tolerance else { return false }
            row += 1
        }
        return true
    }
}

/// Row-wise softmax of N×`classes` values (max-subtracted, computed in Double).
public func softmaxRows(_ values: [Float], classes: Int) -> [Float] {
    guard classes > 0 else { return values }
    var out = [Float](repeating: 0, count: values.count)
    var start = 0
    while start + classes <= values.count {
        let row = values[start..<(start + classes)]
        let top = Double(row.max() ?? 0)
        let exps = row.map { exp(Double($0) - top) }
        let total = exps.reduce(0, +)
        for (i, e) in exps.enumerated() { out[start + i] = Float(e / total) }
        start += classes
    }
    return out
}
