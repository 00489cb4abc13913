import Engine
import Foundation
import Passes
import TensorCore
import XCTest

/// The export passes change structure, not results.
final class PassTests: XCTestCase {
    func testFoldBatchNormIntoConvAndLinear() throws {
        var m = try GraphMaker("bn", input: [3, 5, 5])
        let w = try m.weight("w", [4, 3, 3, 3])
        try m.add("conv", .conv2D(Conv2DAttributes(kernel: Size2D(3, 3))), ["input", w])
        let p = try ["g", "b", "m", "v"].map { k in try m.weight("bn/\(k)", [4], k == "v" ? 0.5...2 : -1...1) }
        try m.add("bn", .batchNormalization(epsilon: 1e-3), ["conv"] + p)
        try m.add("flat", .flatten, ["bn"])
        let wl = try m.weight("wl", [36, 3]), bl = try m.weight("bl", [3])
        try m.add("dense", .linear, ["flat", wl, bl])
        let q = try ["g", "b", "m", "v"].map { k in try m.weight("bn1d/\(k)", [3], k == "v" ? 0.5...2 : -1...1) }
        try m.add("bn1d", .batchNormalization(epsilon: 1e-3), ["dense"] + q)
        m.outputs("bn1d")
        let (folded, report) = try FoldBatchNorm().run(m.graph)
        XCTAssertEqual(folded.nodes.map(\.name), ["conv", "flat", "dense"])
        XCTAssertEqual(folded.outputs.map(\.name), ["bn1d"])
        XCTAssertEqual(folded.nodes.last?.output, "bn1d")
        XCTAssertEqual(report.changed.count, 2)
        XCTAssertNil(folded.initializers["bn/g"])
        let x = try sampleInput([3, 5, 5])
        assertClose(try execute(folded, x), try execute(m.graph, x), tolerance: 1e-5)
    }

    func testFoldBatchNormSkipsSharedOutput() throws {
        var m = try GraphMaker("bn", input: [2, 3, 3])
        let w = try m.weight("w", [2, 2, 1, 1])
        try m.add("conv", .conv2D(Conv2DAttributes(kernel: .one)), ["input", w])
        let p = try ["g", "b", "m", "v"].map { k in try m.weight("bn/\(k)", [2], 0.5...1.5) }
        try m.add("bn", .batchNormalization(epsilon: 1e-3), ["conv"] + p)
        try m.add("sum", .elementwise(.add), ["bn", "conv"])
        m.outputs("sum")
        let (folded, report) = try FoldBatchNorm().run(m.graph)
        XCTAssertEqual(folded.nodes.count, 3)
        XCTAssertEqual(report.skipped.first?.node, "bn")
        XCTAssert(report.skipped.first?.reason.contains("other readers") == true)
    }

    func testChannelsLastFlattenBecomesWeightPermutation() throws {
        var m = try GraphMaker("flat", input: [3, 4, 5])
        try m.add("to_nhwc", .transpose([0, 2, 3, 1]), ["input"])
        try m.add("flatten", .flatten, ["to_nhwc"])
        let w = try m.weight("w", [60, 7]), b = try m.weight("b", [7])
        try m.add("dense", .linear, ["flatten", w, b])
        m.outputs("dense")
        let (folded, report) = try FoldChannelsLastFlatten().run(m.graph)
        XCTAssertEqual(folded.nodes.map(\.name), ["flatten", "dense"])
        XCTAssertEqual(folded.nodes.first?.inputs, ["input"])
        XCTAssertEqual(report.changed.count, 1)
        let x = try sampleInput([3, 4, 5])
        assertClose(try execute(folded, x), try execute(m.graph, x), tolerance: 1e-6)
    }

    func testChannelsLastFlattenKeptWhenFlatIsAnOutput() throws {
        var m = try GraphMaker("flat", input: [3, 2, 2])
        try m.add("to_nhwc", .transpose([0, 2, 3, 1]), ["input"])
        try m.add("flatten", .flatten, ["to_nhwc"])
        m.outputs("flatten")
        let (folded, report) = try FoldChannelsLastFlatten().run(m.graph)
        XCTAssertEqual(folded.nodes.count, 2)
        XCTAssertEqual(report.skipped.count, 1)
    }

    func testDropIdentitiesAndInverseTransposes() throws {
        var m = try GraphMaker("ids", input: [2, 3, 4])
        try m.add("a", .transpose([0, 2, 3, 1]), ["input"])
        try m.add("b", .transpose([0, 3, 1, 2]), ["a"])
        try m.add("copy", .identity, ["b"])
        try m.add("relu", .activation(.relu), ["copy"])
        try m.add("out", .identity, ["relu"])
        m.outputs("out")
        let (g, report) = try DropIdentities().run(m.graph)
        XCTAssertEqual(g.nodes.map(\.name), ["relu"])
        XCTAssertEqual(g.nodes.first?.inputs, ["input"])
        XCTAssertEqual(g.nodes.first?.output, "out")
        XCTAssertEqual(report.changed.count, 3)
        let x = try sampleInput([2, 3, 4])
        assertClose(try execute(g, x), try execute(m.graph, x), tolerance: 0)
    }
}
