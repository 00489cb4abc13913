import Passes
import Pruning
import TensorCore
import XCTest

/// The pass on small IR graphs: which kernels it touches, exact counts, and its errors.
final class MagnitudePruningTests: XCTestCase {
    func mlp() throws -> Graph { try SmallGraphs.mlp() }
    func ramp(_ shape: [Int]) throws -> Tensor { try SmallGraphs.ramp(shape) }

    func zeros(_ t: Tensor?) -> Int { t?.storage.filter { $0 == 0 }.count ?? -1 }

    func testLayerScopeIsExactPerKernelAndLeavesBiases() throws {
        let (g, report) = try MagnitudePruning(PruningConfiguration(sparsity: 0.3)).prune(mlp())
        XCTAssertEqual(zeros(g.initializers["w1"]), 29)  // round(0.3·96) = 28.8 → 29
        XCTAssertEqual(zeros(g.initializers["w2"]), 11)  // round(0.3·36) = 10.8 → 11
        XCTAssertEqual(zeros(g.initializers["b1"]), 0)
        // The smallest magnitudes went: w1 keeps 30…96.
        XCTAssertEqual(g.initializers["w1"]?.storage.prefix(30).map { abs($0) }, [Float](repeating: 0, count: 29) + [30])
        XCTAssertEqual(report.layers.map(\.nonzeros), [67, 25])
    }

    func testGlobalScopeExactTotal() throws {
        let (g, report) = try MagnitudePruning(PruningConfiguration(sparsity: 0.5, scope: .global)).prune(mlp())
        let total = zeros(g.initializers["w1"]) + zeros(g.initializers["w2"])
        XCTAssertEqual(total, 66)  // round(0.5·132)
        // |w1| = 1…96, |w2| = 1…36: the 66 smallest are 1…33 from each (ties alternate, earlier layer first).
        XCTAssertEqual(zeros(g.initializers["w1"]), 33)
        XCTAssertEqual(zeros(g.initializers["w2"]), 33)
        XCTAssertEqual(report.prunedParameters - report.prunedNonzeros, 66)
    }

    func testExcludeAndMinParams() throws {
        var config = PruningConfiguration(sparsity: 0.5, exclude: ["fc1"])
        var (g, report) = try MagnitudePruning(config).prune(mlp())
        XCTAssertEqual(zeros(g.initializers["w1"]), 0)
        XCTAssertEqual(zeros(g.initializers["w2"]), 18)
        XCTAssertEqual(report.layers.first?.skipped, "excluded (--exclude)")

        config = PruningConfiguration(sparsity: 0.5, exclude: ["fc2/linear"], minParameters: 100)
        (g, report) = try MagnitudePruning(config).prune(mlp())
        XCTAssertEqual(zeros(g.initializers["w1"]), 0)  // 96 < 100
        XCTAssertEqual(zeros(g.initializers["w2"]), 0)  // excluded by node name
        XCTAssertEqual(report.prunedParameters, 0)
    }

    func testTwoOfFourEveryGroupAlongK() throws {
        let (g, report) = try MagnitudePruning(PruningConfiguration(sparsity: 0.5, structure: .twoOfFour)).prune(mlp())
        for (name, k, m) in [("w1", 8, 12), ("w2", 12, 3)] {
            let w = try XCTUnwrap(g.initializers[name])
            for column in 0..<m {
                for group in 0..<(k / 4) {
                    let values = (0..<4).map { w.storage[(group * 4 + $0) * m + column] }
                    XCTAssertEqual(values.filter { $0 != 0 }.count, 2, "\(name) column \(column) group \(group)")
                }
            }
        }
        XCTAssertEqual(report.layers.map(\.sparsity), [0.5, 0.5])
    }

    func testTwoOfFourLeavesIndivisibleInputsDense() throws {
        var g = Graph(name: "odd")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 6]))
        try g.addInitializer("w", ramp([6, 4]))
        try g.append(Node(name: "fc", op: .linear, inputs: ["x", "w"], output: "y"))
        let (out, report) = try MagnitudePruning(PruningConfiguration(sparsity: 0.5, structure: .twoOfFour)).prune(g)
        XCTAssertEqual(zeros(out.initializers["w"]), 0)
        XCTAssertEqual(report.layers.first?.skipped, "input dimension 6 is not a multiple of 4 (2:4 needs whole groups)")
    }

    func testBadConfigurationAndUnknownExclude() throws {
        for s in [-0.1, 1.0, 1.5, .nan] {
            XCTAssertThrowsError(try MagnitudePruning(PruningConfiguration(sparsity: s)).prune(mlp())) { error in
                XCTAssertEqual((error as? ModelPressError)?.exitCode, 2)
            }
        }
        XCTAssertThrowsError(try MagnitudePruning(PruningConfiguration(sparsity: 0.5, exclude: ["fc3"])).prune(mlp())) { error in
            let message = "\(error)"
            XCTAssertEqual((error as? ModelPressError)?.exitCode, 2)
            XCTAssertTrue(message.contains("'fc3'") && message.contains("fc1 (fc1/linear)") && message.contains("fc2"), message)
        }
        XCTAssertThrowsError(try MagnitudePruning(PruningConfiguration(sparsity: 0.3, structure: .twoOfFour)).prune(mlp()))
    }

    func testDepthwiseConvIsLeftDense() throws {
        var g = Graph(name: "dw")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 4, 5, 5]))
        try g.addInitializer("dw", ramp([4, 1, 3, 3]))
        try g.addInitializer("pw", ramp([8, 4, 1, 1]))
        try g.append(Node(name: "dw", op: .conv2D(Conv2DAttributes(kernel: Size2D(3, 3), group: 4)), inputs: ["x", "dw"], output: "h"))
        try g.append(Node(name: "pw", op: .conv2D(Conv2DAttributes(kernel: .one)), inputs: ["h", "pw"], output: "y"))
        let (out, report) = try MagnitudePruning(PruningConfiguration(sparsity: 0.5)).prune(g)
        XCTAssertEqual(zeros(out.initializers["dw"]), 0)
        XCTAssertEqual(zeros(out.initializers["pw"]), 16)
        XCTAssertTrue(report.layers.contains { $0.node == "dw" && ($0.skipped ?? "").contains("depthwise") })
    }
}

/// `--sparsity-per-layer`: own targets per kernel, in both scopes, and unknown names.
final class PerLayerSparsityTests: XCTestCase {
    func zeros(_ t: Tensor?) -> Int { t?.storage.filter { $0 == 0 }.count ?? -1 }

    func testOverrideIsExactInLayerScope() throws {
        var c = PruningConfiguration(sparsity: 0.5)
        c.perLayer = ["fc2": 0.25]
        let (g, report) = try MagnitudePruning(c).prune(try SmallGraphs.mlp())
        XCTAssertEqual(zeros(g.initializers["w1"]), 48)  // round(0.5·96)
        XCTAssertEqual(zeros(g.initializers["w2"]), 9)  // round(0.25·36)
        XCTAssertEqual(report.layers.map(\.target), [0.5, 0.25])
    }

    func testOverrideByNodeNameInGlobalScopeLeavesThePoolToTheRest() throws {
        var c = PruningConfiguration(sparsity: 0.5, scope: .global)
        c.perLayer = ["fc2/linear": 0.5]
        let (g, _) = try MagnitudePruning(c).prune(try SmallGraphs.mlp())
        // fc2 pruned alone: round(0.5·36) = 18; the global pool is fc1 alone: round(0.5·96) = 48.
        XCTAssertEqual(zeros(g.initializers["w2"]), 18)
        XCTAssertEqual(zeros(g.initializers["w1"]), 48)
    }

    func testUnlistedLayersStayDenseWithoutSparsity() throws {
        var c = PruningConfiguration(sparsity: 0)
        c.perLayer = ["fc1": 0.9]
        let (g, report) = try MagnitudePruning(c).prune(try SmallGraphs.mlp())
        XCTAssertEqual(zeros(g.initializers["w1"]), 86)  // round(86.4)
        XCTAssertEqual(zeros(g.initializers["w2"]), 0)
        XCTAssertEqual(report.layers[1].skipped, "not listed in --sparsity-per-layer")
    }

    func testUnknownNamesAndBadValuesExit2() throws {
        var c = PruningConfiguration(sparsity: 0.5)
        c.perLayer = ["fc3": 0.5, "fc1": 0.5, "nope": 0.1]
        XCTAssertThrowsError(try MagnitudePruning(c).prune(try SmallGraphs.mlp())) { error in
            XCTAssertEqual((error as? ModelPressError)?.exitCode, 2)
            XCTAssertTrue("\(error)".contains("'fc3', 'nope'"), "\(error)")
        }
        c.perLayer = ["fc1": 1.0]
        XCTAssertThrowsError(try MagnitudePruning(c).prune(try SmallGraphs.mlp())) { error in
            XCTAssertTrue("\(error)".contains("outside [0, 1)"), "\(error)")
        }
    }
}
