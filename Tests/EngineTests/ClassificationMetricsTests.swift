import Evaluation
import TensorCore
import Testing

/// Top-1 / top-5 accuracy on a hand-worked example with ties.
@Suite("ClassificationMetrics counts top-1 and top-5 hits")
struct ClassificationMetricsTests {
    /// 4 samples × 6 classes, worked out by hand (ties go to the lower class index):
    /// - 0: label 4 has 4 classes above it → top-5 only;
    /// - 1: label 0 ties class 2 for the highest score and has the lower index → top-1;
    /// - 2: label 3 ties class 1, which has the lower index → rank 2, top-5 only;
    /// - 3: label 5 has 4 classes above it and ties class 4 (lower index) → rank 6, neither.
    static let scores: [Float] = [
        0.5, 0.4, 0.3, 0.2, 0.1, 0.0,
        0.5, 0.1, 0.5, 0.2, 0.0, 0.0,
        0.0, 0.7, 0.1, 0.7, 0.2, 0.3,
        0.6, 0.5, 0.4, 0.3, 0.1, 0.1,
    ]
    static let labels = [4, 0, 3, 5]

    @Test("one batch: top-1 1/4, top-5 3/4")
    func oneBatch() throws {
        var metrics = ClassificationMetrics(classes: 6)
        metrics.add(scores: try Tensor(shape: [4, 6], storage: Self.scores), labels: Self.labels)
        #expect(metrics.samples == 4)
        #expect(metrics.top1Correct == 1)
        #expect(metrics.top5Correct == 3)
        #expect(metrics.accuracy == 0.25)
        #expect(metrics.top5Accuracy == 0.75)
    }

    @Test("two batches of two count the same as one of four")
    func streaming() throws {
        var metrics = ClassificationMetrics(classes: 6)
        metrics.add(scores: try Tensor(shape: [2, 6], storage: Array(Self.scores[0..<12])), labels: [4, 0])
        metrics.add(scores: try Tensor(shape: [2, 6], storage: Array(Self.scores[12..<24])), labels: [3, 5])
        #expect((metrics.samples, metrics.top1Correct, metrics.top5Correct) == (4, 1, 3))
    }

    @Test("argmaxRows takes the first of tied maxima")
    func argmax() throws {
        #expect(argmaxRows(try Tensor(shape: [4, 6], storage: Self.scores)) == [0, 0, 1, 0])
    }

    @Test("no samples: accuracies are 0")
    func empty() {
        let metrics = ClassificationMetrics(classes: 10)
        #expect(metrics.accuracy == 0 && metrics.top5Accuracy == 0)
    }
}
