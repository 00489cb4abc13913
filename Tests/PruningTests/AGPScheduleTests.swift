import Pruning
import XCTest

/// The cubic ramp against values worked by hand: s_t = s_f·(1 − (1 − t/K)³).
final class AGPScheduleTests: XCTestCase {
    func testFourStepsToEightyPercent() {
        // K = 4: 1 − (3/4)³ = 37/64, 1 − (1/2)³ = 7/8, 1 − (1/4)³ = 63/64, 1.
        let expected = [0.8 * 37 / 64, 0.8 * 7 / 8, 0.8 * 63 / 64, 0.8]  // 0.4625, 0.7, 0.7875, 0.8
        for (t, s) in expected.enumerated() {
            XCTAssertEqual(AGPSchedule.sparsity(final: 0.8, step: t + 1, steps: 4), s, accuracy: 1e-15)
        }
        XCTAssertEqual(AGPSchedule.sparsity(final: 0.8, step: 4, steps: 4), 0.8)  // exactly the target at the end
        XCTAssertEqual(AGPSchedule.sparsity(final: 0.8, step: 0, steps: 4), 0)  // initial sparsity 0
    }

    func testOneStepIsOneShot() {
        XCTAssertEqual(AGPSchedule.fraction(step: 1, steps: 1), 1)
    }

    func testMonotoneAndSteepFirst() {
        let s = (1...10).map { AGPSchedule.sparsity(final: 0.9, step: $0, steps: 10) }
        XCTAssertEqual(s[0], 0.9 * (1 - 0.729), accuracy: 1e-15)  // 1 − 0.9³
        let increments = zip(s.dropFirst(), s).map { $0 - $1 }
        XCTAssertTrue(increments.allSatisfy { $0 > 0 })
        XCTAssertTrue(zip(increments.dropFirst(), increments).allSatisfy { $0 < $1 })  // each step removes fewer
    }

    func testScaledConfigurationScalesPerLayerTargets() {
        var c = PruningConfiguration(sparsity: 0.8)
        c.perLayer = ["fc2": 0.4]
        let half = c.scaled(by: 0.5)
        XCTAssertEqual(half.sparsity, 0.4)
        XCTAssertEqual(half.perLayer, ["fc2": 0.2])
    }
}
