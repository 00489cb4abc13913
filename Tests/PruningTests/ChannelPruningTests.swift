import Engine
import ModelIO
import ModelLoading
import Passes
import Pruning
import TensorCore
import XCTest
import _TestSupport

/// Channel pruning: the thinned graph computes exactly what the original graph computes with
/// the removed channels masked to zero where the consumers read them (the masked reference is
/// built here by inserting `Mul` nodes, independently of the rewrite).
final class ChannelPruningTests: XCTestCase {
    /// `graph` after the export passes, as `modelpress prune` prunes it.
    func folded(_ fixture: String) throws -> Graph {
        try runPasses(exportPasses, on: try ModelLoader.load(Fixtures.path(fixture))).0
    }

    /// The output value of node `name`.
    func value(_ g: Graph, _ name: String) throws -> String {
        try XCTUnwrap(g.nodes.first { $0.name == name }, "no node \(name)").output
    }

    /// `graph` with each value in `masks` multiplied by a 0/1 mask along axis 1 that keeps `keep`.
    func masked(_ graph: Graph, _ masks: [String: [Int]]) throws -> Graph {
        var g = Graph(name: graph.name)
        for input in graph.inputs { try g.addInput(input) }
        for (name, t) in graph.initializers { try g.addInitializer(name, t) }
        var rename: [String: String] = [:]
        for var node in graph.nodes {
            node.inputs = node.inputs.map { rename[$0] ?? $0 }
            try g.append(node)
            guard let keep = masks[node.output], let shape = g.shapes[node.output] else { continue }
            var maskShape = [Int](repeating: 1, count: shape.count - 1)
            maskShape[0] = shape[1]
            var mask = [Float](repeating: 0, count: shape[1])
            for k in keep { mask[k] = 1 }
            try g.addInitializer("\(node.output)/mask", try Tensor(shape: maskShape, storage: mask))
            let out = "\(node.output)/masked"
            try g.append(Node(name: out, op: .elementwise(.multiply), inputs: [node.output, "\(node.output)/mask"], output: out))
            rename[node.output] = out
        }
        g.outputs = graph.outputs.map { ValueInfo(name: rename[$0.name] ?? $0.name, shape: $0.shape) }
        return g
    }

    /// Indices of the `k` smallest of `scores` (ties: lower index first), ascending.
    func smallest(_ k: Int, _ scores: [Double]) -> [Int] {
        Array(scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }.prefix(k)).sorted()
    }

    /// L1 (or L2) norms of the output channels of an OIHW (axis 0) or K×M (axis 1) weight, by direct loops.
    func norms(_ w: Tensor, axis: Int, l2: Bool = false) -> [Double] {
        let s = w.shape
        var out = [Double](repeating: 0, count: s[axis])
        for (i, v) in w.storage.enumerated() {
            let c = axis == 0 ? i / (w.count / s[0]) : i % s[1]
            out[c] += l2 ? Double(v) * Double(v) : abs(Double(v))
        }
        return l2 ? out.map { $0.squareRoot() } : out
    }

    func assertSameOutputs(_ a: Graph, _ b: Graph, input shape: [Int], file: StaticString = #filePath, line: UInt = #line) throws {
        var gen = SeededGenerator(seed: 7)
        let x = randomTensor(shape, in: 0...1, &gen)
        let ya = try Executor(graph: a).run(x), yb = try Executor(graph: b).run(x)
        XCTAssertEqual(ya.shape, yb.shape, file: file, line: line)
        XCTAssertLessThan(maxRelativeDifference(ya.storage, yb.storage), 1e-5, file: file, line: line)
    }

    func keep(_ removed: [Int], of count: Int) -> [Int] { (0..<count).filter { !removed.contains($0) } }

    func testDigitsCNNThinnedEqualsMaskedAndRemovesTheSmallestFilters() throws {
        let g = try folded("models/keras3/cnn.h5")
        for criterion in ChannelCriterion.allCases {
            let (thin, report) = try ChannelPruning(.init(sparsity: 0.5, criterion: criterion)).prune(g)
            var keeps: [String: [Int]] = [:]
            for node in ["conv_1/conv", "conv_2/conv", "dense/linear"] {
                let n = try XCTUnwrap(g.nodes.first { $0.name == node })
                let w = try XCTUnwrap(g.initializers[n.inputs[1]])
                let axis = node.hasSuffix("conv") ? 0 : 1
                let removed = smallest(w.shape[axis] / 2, norms(w, axis: axis, l2: criterion == .l2))
                let group = try XCTUnwrap(report.groups.first { $0.nodes == [node] })
                XCTAssertEqual(group.removed, removed, "\(criterion) \(node)")
                keeps[node] = keep(removed, of: w.shape[axis])
            }
            XCTAssertNotNil(report.groups.first { $0.nodes == ["predictions/linear"] }?.skipped)
            let reference = try masked(
                g,
                [
                    try value(g, "pool_1"): keeps["conv_1/conv"]!, try value(g, "pool_2"): keeps["conv_2/conv"]!,
                    try value(g, "dense"): keeps["dense/linear"]!,
                ])
            try assertSameOutputs(thin, reference, input: [5, 8, 8, 1])
            // The masks matter: the unmasked model differs.
            var gen = SeededGenerator(seed: 7)
            let x = randomTensor([5, 8, 8, 1], in: 0...1, &gen)
            let plain = try Executor(graph: g).run(x), thinOut = try Executor(graph: thin).run(x)
            XCTAssertGreaterThan(maxAbsDifference(plain.storage, thinOut.storage), 1e-4)
        }
    }

    func testDigitsCNNCountsMatchTheAnalyticFormula() throws {
        let g = try folded("models/keras3/cnn.h5")
        let (_, report) = try ChannelPruning(.init(sparsity: 0.5)).prune(g)
        // conv_1 16→8 (1 input, 3×3, 8×8 out), conv_2 32→16 on 8 inputs (4×4 out), dense 64→32 on
        // 16 channels × 2×2 positions, predictions 10 on 32.
        let params = (8 * 1 * 9 + 8) + (16 * 8 * 9 + 16) + (16 * 4 * 32 + 32) + (32 * 10 + 10)
        let macs = 8 * 64 * 9 + 16 * 16 * 8 * 9 + 64 * 32 + 32 * 10
        XCTAssertEqual(report.parametersBefore, 13_706)
        XCTAssertEqual(report.parametersAfter, params)
        XCTAssertEqual(report.macsBefore, 91_776)
        XCTAssertEqual(report.macsAfter, macs)
        XCTAssertEqual(report.layers.map(\.channelsAfter), [8, 16, 32, 10])
        XCTAssertEqual(report.layers.map(\.inputsAfter), [1, 8, 64, 32])
    }

    func testFunctionalResidualGroupThinnedEqualsMasked() throws {
        let g = try folded("models/keras3/functional.h5")
        let (thin, report) = try ChannelPruning(.init(sparsity: 0.5)).prune(g)
        let group = try XCTUnwrap(report.groups.first { $0.nodes == ["stem_conv", "pw_conv"] }, "stem and pw tied by the Add")
        // One ranking for the group: the summed filter norms of both members.
        let stem = try XCTUnwrap(g.initializers[g.nodes.first { $0.name == "stem_conv" }!.inputs[1]])
        let pw = try XCTUnwrap(g.initializers[g.nodes.first { $0.name == "pw_conv" }!.inputs[1]])
        let summed = zip(norms(stem, axis: 0), norms(pw, axis: 0)).map { $0 + $1 }
        XCTAssertEqual(group.removed, smallest(8, summed))
        let kept = keep(group.removed, of: 16)
        // Consumers: pw_conv reads dw_relu, logits reads the pooled add_relu.
        let reference = try masked(g, [try value(g, "dw_relu"): kept, try value(g, "gap/pool"): kept])
        try assertSameOutputs(thin, reference, input: [5, 8, 8, 1])
        let dw = try XCTUnwrap(thin.nodes.first { $0.name == "dw_conv" })
        guard case .conv2D(let a) = dw.op else { return XCTFail("dw_conv is no conv") }
        XCTAssertEqual(a.group, 8)
    }

    /// x → a → relu → b; Add(relu a, b) → relu ─┐
    /// x → c → relu ────────────────────────────┴→ Concat → d → relu → GAP → Flatten → Linear → y
    static func residualConcatGraph() throws -> Graph {
        var gen = SeededGenerator(seed: 11)
        var g = Graph(name: "residual_concat")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2, 5, 5]))
        let convs: [(String, [Int], String, Int)] = [("a", [4, 2, 3, 3], "x", 1), ("b", [4, 4, 3, 3], "ra", 1), ("c", [3, 2, 1, 1], "x", 0), ("d", [5, 7, 1, 1], "cat", 0)]
        for (name, shape, _, _) in convs {
            try g.addInitializer("w\(name)", randomTensor(shape, &gen))
            try g.addInitializer("b\(name)", randomTensor([shape[0]], in: -0.5...0.5, &gen))
        }
        try g.addInitializer("wl", randomTensor([5, 3], &gen))
        try g.addInitializer("bl", randomTensor([3], &gen))
        func conv(_ name: String, _ input: String, _ kernel: Int, _ pad: Int) throws {
            try g.append(Node(name: name, op: .conv2D(.init(kernel: Size2D(kernel, kernel), pads: Padding2D(top: pad, left: pad, bottom: pad, right: pad))), inputs: [input, "w\(name)", "b\(name)"], output: name))
        }
        try conv("a", "x", 3, 1)
        try g.append(Node(name: "ra", op: .activation(.relu), inputs: ["a"], output: "ra"))
        try conv("b", "ra", 3, 1)
        try g.append(Node(name: "s", op: .elementwise(.add), inputs: ["ra", "b"], output: "s"))
        try g.append(Node(name: "rs", op: .activation(.relu), inputs: ["s"], output: "rs"))
        try conv("c", "x", 1, 0)
        try g.append(Node(name: "rc", op: .activation(.relu), inputs: ["c"], output: "rc"))
        try g.append(Node(name: "cat", op: .concat(axis: 1), inputs: ["rs", "rc"], output: "cat"))
        try conv("d", "cat", 1, 0)
        try g.append(Node(name: "rd", op: .activation(.relu), inputs: ["d"], output: "rd"))
        try g.append(Node(name: "gap", op: .globalAveragePool, inputs: ["rd"], output: "gap"))
        try g.append(Node(name: "flat", op: .flatten, inputs: ["gap"], output: "flat"))
        try g.append(Node(name: "fc", op: .linear, inputs: ["flat", "wl", "bl"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 3])]
        return g
    }

    func testResidualAndConcatGroupsThinnedEqualsMasked() throws {
        let g = try Self.residualConcatGraph()
        let (thin, report) = try ChannelPruning(.init(sparsity: 0.5, criterion: .l2)).prune(g)
        let ab = try XCTUnwrap(report.groups.first { $0.nodes == ["a", "b"] })
        let c = try XCTUnwrap(report.groups.first { $0.nodes == ["c"] })
        let d = try XCTUnwrap(report.groups.first { $0.nodes == ["d"] })
        XCTAssertNotNil(report.groups.first { $0.nodes == ["fc"] }?.skipped)
        let summed = zip(norms(g.initializers["wa"]!, axis: 0, l2: true), norms(g.initializers["wb"]!, axis: 0, l2: true)).map { $0 + $1 }
        XCTAssertEqual(ab.removed, smallest(2, summed))
        XCTAssertEqual(c.removed, smallest(2, norms(g.initializers["wc"]!, axis: 0, l2: true)))  // round(1.5) = 2
        XCTAssertEqual(d.removed, smallest(3, norms(g.initializers["wd"]!, axis: 0, l2: true)))  // round(2.5) = 3
        let keepAB = keep(ab.removed, of: 4), keepC = keep(c.removed, of: 3)
        let reference = try masked(g, ["ra": keepAB, "cat": keepAB + keepC.map { $0 + 4 }, "rd": keep(d.removed, of: 5)])
        try assertSameOutputs(thin, reference, input: [3, 2, 5, 5])
        XCTAssertEqual(thin.shapes["cat"], [dynamicBatch, 3, 5, 5])
        XCTAssertEqual(thin.initializers["wd"]?.shape, [2, 3, 1, 1])
        XCTAssertEqual(thin.initializers["wl"]?.shape, [2, 3])
    }

    func testExcludedMemberLeavesItsGroupAlone() throws {
        let g = try Self.residualConcatGraph()
        let (thin, report) = try ChannelPruning(.init(sparsity: 0.5, exclude: ["b"])).prune(g)
        XCTAssertEqual(report.groups.first { $0.nodes == ["a", "b"] }?.skipped, "tied to excluded layer 'b'")
        XCTAssertEqual(thin.initializers["wa"]?.shape, [4, 2, 3, 3])
        XCTAssertEqual(thin.initializers["wc"]?.shape[0], 1)
    }

    func testExplicitRequestOfAnUnprunableLayerIsAnError() throws {
        let g = try folded("models/keras3/cnn.h5")
        for config in [
            ChannelPruningConfiguration(sparsity: 0.5, only: ["predictions"]),
            ChannelPruningConfiguration(sparsity: 0, perLayer: ["predictions": 0.5]),
            ChannelPruningConfiguration(sparsity: 0.5, only: ["nope"]),
            ChannelPruningConfiguration(sparsity: 1.0),
        ] {
            XCTAssertThrowsError(try ChannelPruning(config).prune(g)) { error in
                XCTAssertEqual((error as? ModelPressError)?.exitCode, 2, "\(error)")
            }
        }
        let f = try folded("models/keras3/functional.h5")
        XCTAssertThrowsError(try ChannelPruning(.init(sparsity: 0.5, only: ["dw_conv"])).prune(f)) { error in
            XCTAssertTrue("\(error)".contains("dw_conv"), "\(error)")
        }
    }

    func testOnlyPrunesTheSelectedLayer() throws {
        let g = try folded("models/keras3/cnn.h5")
        let (thin, report) = try ChannelPruning(.init(sparsity: 0.25, only: ["conv_2"])).prune(g)
        XCTAssertEqual(report.layers.map(\.channelsAfter), [16, 24, 64, 10])
        XCTAssertEqual(thin.initializers.values.reduce(0) { $0 + $1.count }, report.parametersAfter)
    }
}

/// An unfolded channels-last flatten: the channel axis is followed through the Transpose and
/// the Dense rows `(h·W + w)·C + c` of removed channels are deleted.
final class ChannelPruningTransposeTests: XCTestCase {
    func testChannelsLastFlattenRowsFollow() throws {
        var gen = SeededGenerator(seed: 5)
        var g = Graph(name: "nhwc_flatten")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2, 3, 3]))
        try g.addInitializer("wa", randomTensor([4, 2, 1, 1], &gen))
        try g.addInitializer("ba", randomTensor([4], &gen))
        try g.addInitializer("wl", randomTensor([36, 3], &gen))
        try g.append(Node(name: "a", op: .conv2D(.init(kernel: .one)), inputs: ["x", "wa", "ba"], output: "a"))
        try g.append(Node(name: "ra", op: .activation(.relu), inputs: ["a"], output: "ra"))
        try g.append(Node(name: "t", op: .transpose([0, 2, 3, 1]), inputs: ["ra"], output: "t"))
        try g.append(Node(name: "f", op: .flatten, inputs: ["t"], output: "f"))
        try g.append(Node(name: "fc", op: .linear, inputs: ["f", "wl"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 3])]
        let (thin, report) = try ChannelPruning(.init(sparsity: 0.5)).prune(g)
        let removed = try XCTUnwrap(report.groups.first { $0.nodes == ["a"] }?.removed)
        XCTAssertEqual(removed.count, 2)
        // Reference by hand: zero the rows of removed channels in the NHWC-flat Dense weight.
        var wl = try XCTUnwrap(g.initializers["wl"])
        for pos in 0..<9 { for c in removed { for m in 0..<3 { wl.storage[(pos * 4 + c) * 3 + m] = 0 } } }
        var reference = g
        reference.initializers["wl"] = wl
        XCTAssertEqual(thin.initializers["wl"]?.shape, [18, 3])
        let x = randomTensor([4, 2, 3, 3], &gen)
        let a = try Executor(graph: thin).run(x), b = try Executor(graph: reference).run(x)
        XCTAssertLessThan(maxRelativeDifference(a.storage, b.storage), 1e-5)
    }
}

/// Reshape-as-flatten and elementwise constants follow the removed channels.
final class ChannelPruningReshapeTests: XCTestCase {
    func testReshapeTargetAndBroadcastConstantAreSliced() throws {
        var gen = SeededGenerator(seed: 9)
        var g = Graph(name: "reshape")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 5]))
        try g.addInitializer("w1", randomTensor([5, 6], &gen))
        try g.addInitializer("scale", randomTensor([6], &gen))
        try g.addInitializer("w2", randomTensor([6, 2], &gen))
        try g.append(Node(name: "fc1", op: .linear, inputs: ["x", "w1"], output: "h"))
        try g.append(Node(name: "mul", op: .elementwise(.multiply), inputs: ["h", "scale"], output: "m"))
        try g.append(Node(name: "r", op: .reshape([6]), inputs: ["m"], output: "r"))
        try g.append(Node(name: "fc2", op: .linear, inputs: ["r", "w2"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 2])]
        let (thin, report) = try ChannelPruning(.init(sparsity: 0.5)).prune(g)
        let removed = try XCTUnwrap(report.groups.first { $0.nodes == ["fc1"] }?.removed)
        XCTAssertEqual(removed.count, 3)
        XCTAssertEqual(thin.initializers["scale"]?.shape, [3])
        XCTAssertEqual(thin.shapes["r"], [dynamicBatch, 3])
        var w2 = try XCTUnwrap(g.initializers["w2"])
        for r in removed { w2.storage[r * 2] = 0; w2.storage[r * 2 + 1] = 0 }
        var reference = g
        reference.initializers["w2"] = w2
        let x = randomTensor([4, 5], &gen)
        let a = try Executor(graph: thin).run(x), b = try Executor(graph: reference).run(x)
        XCTAssertLessThan(maxRelativeDifference(a.storage, b.storage), 1e-5)
    }
}

/// Rounding the kept channel count to a multiple.
final class ChannelCountTests: XCTestCase {
    func testRemovedCountWithMultiple() {
        // 192 at 0.3: round(57.6) = 58 removed, 134 kept → 136 kept, 56 removed.
        XCTAssertEqual(ChannelPruningConfiguration.removedCount(sparsity: 0.3, count: 192), 58)
        XCTAssertEqual(ChannelPruningConfiguration.removedCount(sparsity: 0.3, count: 192, multiple: 8), 56)
        // 56 at 0.3: round(16.8) = 17 removed, 39 kept → 40 kept.
        XCTAssertEqual(ChannelPruningConfiguration.removedCount(sparsity: 0.3, count: 56, multiple: 8), 16)
        // 8 at 0.3: 2 removed, 6 kept → 8 kept: nothing removed.
        XCTAssertEqual(ChannelPruningConfiguration.removedCount(sparsity: 0.3, count: 8, multiple: 8), 0)
        // Never all: 4 at 0.9 → round(3.6) = 4, capped at 3.
        XCTAssertEqual(ChannelPruningConfiguration.removedCount(sparsity: 0.9, count: 4), 3)
        XCTAssertEqual(ChannelPruningConfiguration.removedCount(sparsity: 0.5, count: 5), 3)  // round(2.5) away from zero
    }

    func testMultipleBelowOneIsRefused() throws {
        XCTAssertThrowsError(try ChannelPruningConfiguration(sparsity: 0.5, multiple: 0).validate())
    }
}
