import Pruning
import TensorCore
import XCTest

/// Hand-worked examples of the ranking rules, on a 2×4 kernel.
final class MagnitudeMaskTests: XCTestCase {
    /// Row-major 2×4: |w| = .5 .1 .3 .7 / .2 .1 .6 .4 (indices 0…7).
    let kernel: [Float] = [
        0.5, -0.1, 0.3, -0.7,
        0.2, 0.1, -0.6, 0.4,
    ]

    func testPrunedCountRoundsHalfAwayFromZero() {
        XCTAssertEqual(MagnitudeMask.prunedCount(sparsity: 0.5, count: 8), 4)
        XCTAssertEqual(MagnitudeMask.prunedCount(sparsity: 0.8, count: 144), 115)  // 115.2
        XCTAssertEqual(MagnitudeMask.prunedCount(sparsity: 0.5, count: 5), 3)  // 2.5 → 3
        XCTAssertEqual(MagnitudeMask.prunedCount(sparsity: 0, count: 5), 0)
        XCTAssertEqual(MagnitudeMask.prunedCount(sparsity: 0.99, count: 1), 1)
    }

    func testUnstructuredHalfOfTwoByFour() {
        // Ascending (|w|, index): 1 (.1), 5 (.1), 4 (.2), 2 (.3), 7, 0, 6, 3.
        XCTAssertEqual(MagnitudeMask.smallest(4, of: kernel), [1, 5, 4, 2])
        XCTAssertEqual(
            applying(MagnitudeMask.smallest(4, of: kernel), to: kernel),
            [0.5, 0, 0, -0.7, 0, 0, -0.6, 0.4])
    }

    func testTiesGoToTheLowerIndex() {
        // |w[1]| == |w[5]|: with one weight to remove, index 1 goes.
        XCTAssertEqual(MagnitudeMask.smallest(1, of: kernel), [1])
        XCTAssertEqual(MagnitudeMask.smallest(2, of: [1, 1, 1, 1]), [0, 1])
    }

    func testNaNRanksLargest() {
        XCTAssertEqual(MagnitudeMask.smallest(2, of: [.nan, 3, -1, 2]), [2, 3])
    }

    func testGlobalRanksAcrossLayers() {
        // Layer 0 = first row, layer 1 = second row: the four smallest overall are (0,1) .1,
        // (1,1) .1 (tie → earlier layer first), (1,0) .2, (0,2) .3.
        let removed = MagnitudeMask.globalSmallest(4, of: [Array(kernel[0..<4]), Array(kernel[4..<8])])
        XCTAssertEqual(removed.map { [$0.layer, $0.index] }, [[0, 1], [1, 1], [1, 0], [0, 2]])
    }

    func testTwoOfFourConvTwoByFour() {
        // Conv OIHW 2×4×1×1: each output row is one group of 4 input channels.
        let removed = MagnitudeMask.twoOfFour(kernel, outer: 2, inputs: 4, inner: 1)
        XCTAssertEqual(applying(removed, to: kernel), [0.5, 0, 0, -0.7, 0, 0, -0.6, 0.4])
    }

    func testTwoOfFourDenseGroupsRunDownColumns() {
        // Dense K×M = 4×2 (the transpose of the 2×4 above): groups are the 4 rows of each column.
        let dense: [Float] = [
            0.5, 0.2,
            -0.1, 0.1,
            0.3, -0.6,
            -0.7, 0.4,
        ]
        let removed = MagnitudeMask.twoOfFour(dense, outer: 1, inputs: 4, inner: 2)
        XCTAssertEqual(applying(removed, to: dense), [0.5, 0, 0, 0, 0, -0.6, -0.7, 0.4])
        // Ties: the lower indices go.
        XCTAssertEqual(applying(MagnitudeMask.twoOfFour([1, 1, 1, 1], outer: 1, inputs: 4, inner: 1), to: [1, 1, 1, 1]), [0, 0, 1, 1])
    }

    private func applying(_ removed: [Int], to weights: [Float]) -> [Float] {
        var w = weights
        for i in removed { w[i] = 0 }
        return w
    }
}

/// LAMP scores against hand computation.
final class LAMPScoreTests: XCTestCase {
    func testScoresAreSquaresOverTheTailAndScaleFree() {
        // |w| ascending: 1 (index 1), 2 (index 2), 3 (index 0): 9/9, 4/13, 1/14.
        let scores = MagnitudeMask.lampScores([3, -1, 2])
        XCTAssertEqual(scores[0], 1, accuracy: 1e-7)
        XCTAssertEqual(scores[2], 4 / 13, accuracy: 1e-7)
        XCTAssertEqual(scores[1], 1 / 14, accuracy: 1e-7)
        XCTAssertEqual(MagnitudeMask.lampScores([30, -10, 20]), scores)
        // NaN never goes first.
        XCTAssertEqual(MagnitudeMask.lampScores([.nan, 1])[0], .infinity)
    }

    func testLAMPScopeKeepsEveryLayerAlive() throws {
        // Two layers 1000× apart in scale: global magnitude empties the small one, LAMP does not.
        var c = PruningConfiguration(sparsity: 0.5, scope: .global)
        let g = try SmallGraphs.mlp()
        var scaled = g
        scaled.initializers["w2"]!.storage = g.initializers["w2"]!.storage.map { $0 / 1000 }
        let global = try MagnitudePruning(c).prune(scaled).1
        XCTAssertEqual(global.layers.first { $0.weight == "w2" }?.nonzeros, 0)
        c.scope = .lamp
        let lamp = try MagnitudePruning(c).prune(scaled).1
        XCTAssertGreaterThan(lamp.layers.first { $0.weight == "w2" }?.nonzeros ?? 0, 0)
        XCTAssertEqual(lamp.prunedParameters - lamp.prunedNonzeros, MagnitudeMask.prunedCount(sparsity: 0.5, count: 96 + 36))
    }
}
