import Evaluation
import Testing

/// Precision / recall / F1 against confusion matrices worked by hand.
@Suite("Per-class precision, recall, F1 and macro-F1")
struct PerClassMetricsTests {
    /// labels      0 0 0 1 1 1 2 2
    /// predictions 0 0 1 1 1 2 2 2
    /// class 0: TP 2, predicted 2, support 3 → P 1,   R 2/3, F1 4/5
    /// class 1: TP 2, predicted 3, support 3 → P 2/3, R 2/3, F1 2/3
    /// class 2: TP 2, predicted 3, support 2 → P 2/3, R 1,   F1 4/5
    /// macro-F1 = (4/5 + 2/3 + 4/5) / 3 = 34/45
    @Test("3-class matrix worked by hand")
    func threeClasses() {
        let m = ConfusionMatrix(labels: [0, 0, 0, 1, 1, 1, 2, 2], predictions: [0, 0, 1, 1, 1, 2, 2, 2], classes: 3)
        #expect(m.counts == [[2, 1, 0], [0, 2, 1], [0, 0, 2]])
        let s = m.perClass
        let expected: [(Double, Double, Double, Int)] = [(1, 2.0 / 3, 0.8, 3), (2.0 / 3, 2.0 / 3, 2.0 / 3, 3), (2.0 / 3, 1, 0.8, 2)]
        for (c, e) in expected.enumerated() {
            #expect(abs(s[c].precision - e.0) < 1e-12, "class \(c) precision")
            #expect(abs(s[c].recall - e.1) < 1e-12, "class \(c) recall")
            #expect(abs(s[c].f1 - e.2) < 1e-12, "class \(c) F1")
            #expect(s[c].support == e.3)
        }
        #expect(abs(m.macroF1 - 34.0 / 45) < 1e-12)
    }

    /// Class 3 never occurs in labels or predictions → left out of macro-F1 (scikit-learn).
    /// Class 2 is predicted but never a label → F1 0, counted.
    /// labels 0 0 1 1, predictions 0 2 1 1:
    /// class 0: P 1, R 1/2, F1 2/3; class 1: P 1, R 1, F1 1; class 2: P 0, R 0, F1 0.
    @Test("absent classes: never seen → excluded from macro-F1; predicted only → F1 0")
    func absentClasses() {
        let m = ConfusionMatrix(labels: [0, 0, 1, 1], predictions: [0, 2, 1, 1], classes: 4)
        let s = m.perClass
        #expect(abs(s[0].f1 - 2.0 / 3) < 1e-12)
        #expect(s[1].f1 == 1)
        #expect(s[2].precision == 0 && s[2].recall == 0 && s[2].f1 == 0 && s[2].support == 0)
        #expect(s[3].support == 0 && s[3].f1 == 0)
        #expect(abs(m.macroF1 - (2.0 / 3 + 1 + 0) / 3) < 1e-12)
    }
}
