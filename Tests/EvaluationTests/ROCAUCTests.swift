import Testing
import _TestSupport

@testable import Evaluation

/// ROC-AUC as the probability that a random positive outscores a random negative (ties ½).
@Suite("ROC-AUC, binary and one-vs-rest")
struct ROCAUCTests {
    /// scores 0.1 0.4 0.35 0.8 0.4, positives at 0.35, 0.8, 0.4 (the second 0.4).
    /// Pairs positive vs negative {0.1, 0.4}: 0.35 → 1 + 0; 0.8 → 1 + 1; 0.4 → 1 + ½ (tie).
    /// AUC = 4.5 / 6 = 0.75.
    @Test("tiny example with a tie worked by hand: 0.75")
    func handWorked() {
        let auc = ROCAUC.binary(scores: [0.1, 0.4, 0.35, 0.8, 0.4], positives: [false, false, true, true, true])
        #expect(auc == 0.75)
        // scikit-learn's documented example: y = 0 0 1 1, scores 0.1 0.4 0.35 0.8 → 0.75.
        #expect(ROCAUC.binary(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true]) == 0.75)
    }

    @Test("perfect, reversed, all tied, one class only")
    func edges() {
        #expect(ROCAUC.binary(scores: [0, 1, 2, 3], positives: [false, false, true, true]) == 1)
        #expect(ROCAUC.binary(scores: [3, 2, 1, 0], positives: [false, false, true, true]) == 0)
        #expect(ROCAUC.binary(scores: [5, 5, 5, 5, 5], positives: [false, true, true, false, true]) == 0.5)
        #expect(ROCAUC.binary(scores: [1, 2], positives: [true, true]) == nil)
        #expect(ROCAUC.binary(scores: [1, 2], positives: [false, false]) == nil)
    }

    @Test("rank formula equals counting every positive–negative pair, with many ties")
    func pairCountingReference() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<20 {
            let n = Int.random(in: 2...60, using: &generator)
            let scores = (0..<n).map { _ in Double(Int.random(in: 0...6, using: &generator)) / 6 }  // heavy ties
            var positives = (0..<n).map { _ in Bool.random(using: &generator) }
            positives[0] = true
            positives[1] = false
            var wins = 0.0, pairs = 0.0
            for i in 0..<n where positives[i] {
                for j in 0..<n where !positives[j] {
                    wins += scores[i] > scores[j] ? 1 : (scores[i] == scores[j] ? 0.5 : 0)
                    pairs += 1
                }
            }
            let auc = ROCAUC.binary(scores: scores, positives: positives)
            #expect(abs((auc ?? -1) - wins / pairs) < 1e-12)
        }
    }

    /// 3 classes, labels 0 0 1 1 (class 2 absent).
    /// class 0: positives 0.7 0.3 vs negatives 0.2 0.4 → (2 + 1) / 4 = 0.75
    /// class 1: positives 0.5 0.4 vs negatives 0.2 0.4 → (2 + 1 + ½) / 4 = 0.875
    /// macro over present classes = 0.8125; class 2 skipped.
    @Test("one-vs-rest macro skips a class absent from the labels")
    func oneVsRest() {
        let p: [Float] = [
            0.7, 0.2, 0.1,
            0.3, 0.4, 0.3,
            0.2, 0.5, 0.3,
            0.4, 0.4, 0.2,
        ]
        let summary = ROCAUCSummary(probabilities: p, labels: [0, 0, 1, 1], classes: 3)
        #expect(summary.kind == "ovr_macro")
        #expect(abs((summary.perClass[0] ?? -1) - 0.75) < 1e-12)
        #expect(abs((summary.perClass[1] ?? -1) - 0.875) < 1e-12)
        #expect(summary.perClass[2] == nil)
        #expect(summary.skippedClasses == [2])
        #expect(abs((summary.value ?? -1) - 0.8125) < 1e-12)
    }

    @Test("two classes: the binary AUC of class 1's score")
    func binarySummary() {
        let p: [Float] = [0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8]
        let summary = ROCAUCSummary(probabilities: p, labels: [0, 0, 1, 1], classes: 2)
        // class-1 scores: negatives 0.1 0.4, positives 0.35 0.8 → (1 + 0 + 1 + 1) / 4
        #expect(summary.kind == "binary")
        #expect(summary.value == 0.75)
    }
}
