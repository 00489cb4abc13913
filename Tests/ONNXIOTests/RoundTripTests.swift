import Engine
import Foundation
import ONNXIO
import TensorCore
import XCTest

/// Export → import → export is byte-identical, the re-imported IR equals the exported one, and
/// both compute what the original graph computes.
final class RoundTripTests: XCTestCase {
    /// Exports `graph`, re-imports and re-exports it, and compares bytes, IR and outputs on `x`.
    @discardableResult
    func roundTrip(
        _ graph: Graph, opset: Int = 13, layout: ONNXExportOptions.InputLayout = .nhwc, input x: Tensor,
        nchwInput: Tensor? = nil, tolerance: Float = 1e-5, sameIR: Bool = true,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> ONNXExportResult {
        var options = ONNXExportOptions()
        options.opset = opset
        options.inputLayout = layout
        let first = try ONNXExporter.export(graph, options: options)
        let imported = try ONNXImporter.importModel(from: first.data, file: "first.onnx")
        if sameIR { XCTAssertEqual(imported.nodes, first.graph.nodes, "re-imported nodes (opset \(opset))", file: file, line: line) }
        XCTAssertEqual(imported.initializers, first.graph.initializers, "re-imported initializers", file: file, line: line)
        var again = ONNXExportOptions()
        again.opset = opset
        let second = try ONNXExporter.export(imported, options: again)
        XCTAssertEqual(first.data, second.data, "export → import → export bytes differ (opset \(opset))", file: file, line: line)
        let expected = try execute(graph, x)
        assertClose(try execute(imported, nchwInput ?? x), expected, tolerance: tolerance, "re-imported vs original (opset \(opset))", file: file, line: line)
        return first
    }

    /// A small Keras-like CNN: NHWC input, Conv/BN/ReLU, depthwise Conv/BN/ReLU6, pooling,
    /// channels-last flatten, Dense, softmax.
    static func cnn() throws -> Graph {
        var m = try GraphMaker("cnn", input: [6, 6, 3])
        try m.add("input_nchw", .transpose([0, 3, 1, 2]), ["input"])
        let w1 = try m.weight("conv/kernel", [4, 3, 3, 3]), b1 = try m.weight("conv/bias", [4])
        try m.add("conv", .conv2D(Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1))), ["input_nchw", w1, b1])
        let bn = try ["gamma", "beta", "mean", "var"].map { k in try m.weight("bn/\(k)", [4], k == "var" ? 0.5...2 : -1...1) }
        try m.add("bn", .batchNormalization(epsilon: 1e-3), ["conv"] + bn)
        try m.add("relu", .activation(.relu), ["bn"])
        try m.add("pool", .maxPool2D(Pool2DAttributes(kernel: Size2D(2, 2), strides: Size2D(2, 2))), ["relu"])
        let wd = try m.weight("dw/kernel", [4, 1, 3, 3])
        try m.add("dw", .conv2D(Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1), group: 4)), ["pool", wd])
        let bn2 = try ["gamma", "beta", "mean", "var"].map { k in try m.weight("bn2/\(k)", [4], k == "var" ? 0.5...2 : -1...1) }
        try m.add("bn2", .batchNormalization(epsilon: 1e-3), ["dw"] + bn2)
        try m.add("relu6", .activation(.clip(min: 0, max: 6)), ["bn2"], layer: "bn2")
        try m.add("to_nhwc", .transpose([0, 2, 3, 1]), ["relu6"])
        try m.add("flatten", .flatten, ["to_nhwc"])
        let wl = try m.weight("dense/kernel", [36, 5]), bl = try m.weight("dense/bias", [5])
        try m.add("dense", .linear, ["flatten", wl, bl])
        try m.add("predictions", .softmax(axis: 1), ["dense"])
        m.outputs("predictions")
        return m.graph
    }

    func testCNNRoundTripsAtEveryOpset() throws {
        let g = try Self.cnn()
        let x = try sampleInput([6, 6, 3])
        for opset in [13, 14, 17, 18, 20, 21] {
            let result = try roundTrip(g, opset: opset, input: x)
            XCTAssertFalse(
                result.graph.nodes.contains { if case .batchNormalization = $0.op { return true } else { return false } },
                "BatchNormalization should be folded")
            XCTAssertEqual(
                result.graph.nodes.filter { if case .transpose = $0.op { return true } else { return false } }.count, 1,
                "only the input transpose should remain")
        }
    }

    func testCNNWithChannelsFirstInput() throws {
        let g = try Self.cnn()
        let x = try sampleInput([6, 6, 3])
        let nchw = try Engine.transpose(x, perm: [0, 3, 1, 2])
        let result = try roundTrip(g, layout: .nchw, input: x, nchwInput: nchw)
        XCTAssertEqual(result.graph.inputs.first?.shape, [dynamicBatch, 3, 6, 6])
        XCTAssertFalse(result.graph.nodes.contains { if case .transpose = $0.op { return true } else { return false } })
    }

    func testChannelsFirstFoldsIntoDenseAfterChannelsLastFlatten() throws {
        var m = try GraphMaker("mlp", input: [4, 5, 3])
        try m.add("flatten", .flatten, ["input"])
        let w = try m.weight("w", [60, 6]), b = try m.weight("b", [6])
        try m.add("dense", .linear, ["flatten", w, b])
        m.outputs("dense")
        let x = try sampleInput([4, 5, 3])
        let result = try roundTrip(m.graph, layout: .nchw, input: x, nchwInput: try Engine.transpose(x, perm: [0, 3, 1, 2]))
        XCTAssertEqual(result.graph.nodes.map(\.name), ["flatten", "dense"])
    }

    func testChannelsFirstSinksThroughPreprocessing() throws {
        var m = try GraphMaker("pre", input: [4, 5, 3])
        let scale = try m.weight("scale", [])
        try m.add("rescale", .elementwise(.multiply), ["input", scale])
        let mean = try m.weight("mean", [3]), std = try m.weight("std", [1, 1, 3], 0.5...2)
        try m.add("center", .elementwise(.subtract), ["rescale", mean])
        try m.add("normalize", .elementwise(.divide), ["center", std])
        let slope = try m.weight("slope", [4, 5, 3], 0...0.5)
        try m.add("prelu", .prelu, ["normalize", slope])
        try m.add("swish", .activation(.swish), ["prelu"])
        try m.add("softmax", .softmax(axis: 3), ["swish"])
        try m.add("to_nchw", .transpose([0, 3, 1, 2]), ["softmax"])
        let w = try m.weight("w", [2, 3, 1, 1])
        try m.add("conv", .conv2D(Conv2DAttributes(kernel: .one)), ["to_nchw", w])
        m.outputs("conv")
        let x = try sampleInput([4, 5, 3])
        let result = try roundTrip(m.graph, layout: .nchw, input: x, nchwInput: try Engine.transpose(x, perm: [0, 3, 1, 2]))
        XCTAssertFalse(result.graph.nodes.contains { if case .transpose = $0.op { return true } else { return false } })
        XCTAssertEqual(result.graph.nodes.first { $0.name == "softmax" }?.op, .softmax(axis: 1))
        XCTAssertEqual(result.graph.shapes["prelu"], [dynamicBatch, 3, 4, 5])
    }

    func testChannelsFirstRefusedWhenInputIsNotTransposed() throws {
        var m = try GraphMaker("mlp", input: [8, 8, 3])
        try m.add("flatten", .flatten, ["input"])
        m.outputs("flatten")
        var options = ONNXExportOptions()
        options.inputLayout = .nchw
        XCTAssertThrowsError(try ONNXExporter.export(m.graph, options: options)) { error in
            guard case ModelPressError.invalidArgument(let message) = error else { return XCTFail("\(error)") }
            XCTAssert(message.contains("'input'") && message.contains("'flatten'"), message)
        }
    }

    func testExportIsDeterministicAndCarriesMetadata() throws {
        var g = try Self.cnn()
        g.metadata["modelpress.source_sha256"] = String(repeating: "a", count: 64)
        g.metadata["keras_version"] = "3.15"
        let a = try ONNXExporter.export(g).data, b = try ONNXExporter.export(g).data
        XCTAssertEqual(a, b)
        let imported = try ONNXImporter.importModel(from: a, file: "m.onnx")
        XCTAssertEqual(imported.metadata["modelpress.compression"], "{}")
        XCTAssertEqual(imported.metadata["modelpress.source_sha256"], String(repeating: "a", count: 64))
        XCTAssertNil(imported.metadata["keras_version"])
    }

    func testLinearOnRank3InputAndWithoutBias() throws {
        var m = try GraphMaker("dense3", input: [4, 6])
        let w = try m.weight("w", [6, 5]), b = try m.weight("b", [5]), w2 = try m.weight("w2", [5, 3])
        try m.add("dense_rank3", .linear, ["input", w, b])
        try m.add("dense_nobias", .linear, ["dense_rank3", w2])
        try m.add("flatten", .flatten, ["dense_nobias"])
        let w3 = try m.weight("w3", [12, 2])
        try m.add("gemm_nobias", .linear, ["flatten", w3])
        m.outputs("gemm_nobias")
        try roundTrip(m.graph, input: try sampleInput([4, 6]))
    }

    func testShapeAndMergeOps() throws {
        var m = try GraphMaker("shapes", input: [3, 6, 5])
        try m.add("pad", .pad([0, 0, 1, 2, 0, 0, 2, 1]), ["input"])  // 3×9×8
        try m.add("crop", .slice(begin: [0, 0, 2, 1], end: [dynamicBatch, 3, 8, 7]), ["pad"])  // 3×6×6
        try m.add("avg", .averagePool2D(Pool2DAttributes(kernel: Size2D(3, 3), strides: Size2D(2, 2), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1))), ["crop"])  // 3×3×3
        try m.add("up", .upsampleNearest([1, 1, 2, 2]), ["avg"])  // 3×6×6
        try m.add("gap", .globalAveragePool, ["up"])
        try m.add("gmp", .globalMaxPool, ["crop"])
        try m.add("cat", .concat(axis: 1), ["gap", "gmp"])  // 6×1×1
        try m.add("reshape", .reshape([2, 3]), ["cat"])
        try m.add("perm", .transpose([0, 2, 1]), ["reshape"])  // 3×2
        let c = try m.weight("offset", [2])
        try m.add("sum3", .elementwise(.add), ["perm", "perm", c])
        try m.add("sub", .elementwise(.subtract), ["sum3", c])
        try m.add("mul3", .elementwise(.multiply), ["sub", "perm", "sum3"])
        let d = try m.weight("divisor", [3, 1], 1...2)
        try m.add("div", .elementwise(.divide), ["mul3", d])
        try m.add("max", .elementwise(.maximum), ["div", "sub"])
        try m.add("min", .elementwise(.minimum), ["div", "sub", "perm"])
        try m.add("mean", .elementwise(.mean), ["max", "min"])
        try m.add("add", .elementwise(.add), ["mean", "max"])
        let slope = try m.weight("slope", [2], 0...0.5)
        try m.add("prelu", .prelu, ["add", slope])
        try m.add("copy", .identity, ["prelu"])
        try m.add("softmax", .softmax(axis: 2), ["copy"])
        m.outputs("softmax")
        // Mul of three inputs is written as two binary Muls and read back as two IR nodes.
        for opset in [13, 18, 21] { try roundTrip(m.graph, opset: opset, input: try sampleInput([3, 6, 5]), sameIR: false) }
    }
}

/// The IR version written for each opset follows onnx's VERSION_TABLE.
final class ONNXVersionTests: XCTestCase {
    func testIRVersionPerOpset() throws {
        let expected: [Int: Int64] = [13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10]
        for (opset, ir) in expected { XCTAssertEqual(ONNXVersions.irVersion(forOpset: opset), ir, "opset \(opset)") }
        var options = ONNXExportOptions()
        options.opset = 12
        XCTAssertThrowsError(try ONNXExporter.export(try RoundTripTests.cnn(), options: options))
    }
}
