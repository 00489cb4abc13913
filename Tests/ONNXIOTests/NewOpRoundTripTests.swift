import Engine
import Foundation
import ONNXIO
import TensorCore
import XCTest
import _TestSupport

/// Split (three outputs) and LayerNormalization export as standard ONNX and import back to
/// the same IR, whose outputs equal the original's.
final class NewOpRoundTripTests: XCTestCase {
    private func graph() throws -> Graph {
        var generator = SeededGenerator(seed: 9)
        var g = Graph(name: "new_ops")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 6, 4]))
        try g.addInitializer("gamma", randomTensor([4], &generator))
        try g.addInitializer("beta", randomTensor([4], &generator))
        try g.append(Node(name: "s", op: .split(Split(axis: 1, sizes: [1, 2, 3])), inputs: ["x"], outputs: ["a", "b", "c"]))
        try g.append(Node(name: "ln", op: .layerNormalization(LayerNormalization(axis: 2, epsilon: 1e-3)), inputs: ["c", "gamma", "beta"], output: "n"))
        try g.append(Node(name: "j", op: .concat(axis: 1), inputs: ["n", "a", "b"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: g.shapes["y"]!)]
        try g.verify()
        return g
    }

    func testSplitAndLayerNormalizationRoundTripAtOpset17() throws {
        let g = try graph()
        var options = ONNXExportOptions()
        options.opset = 17
        let exported = try ONNXExporter.export(g, options: options)
        let imported = try ONNXImporter.importModel(from: exported.data, file: "new_ops.onnx")
        try imported.verify()
        XCTAssertEqual(imported.nodes.map(\.op), g.nodes.map(\.op))
        XCTAssertEqual(imported.nodes[0].outputs.count, 3)
        let x = try sampleInput([1, 6, 4], batch: 2).reshaped([2, 6, 4])
        assertClose(try Executor(graph: imported).run(x), try Executor(graph: g).run(x), tolerance: 1e-6)
    }

    func testLayerNormalizationBelowOpset17IsDecomposed() throws {
        var options = ONNXExportOptions()
        options.opset = 13
        let exported = try ONNXExporter.export(try graph(), options: options)
        let text = String(decoding: exported.data, as: UTF8.self)
        XCTAssertTrue(text.contains("ReduceMean") && !text.contains("LayerNormalization"))
    }

    /// ReduceMean (axes as an attribute below opset 18, as an input from 18) and Tile.
    func testReduceMeanAndTileRoundTrip() throws {
        var g = Graph(name: "reduce_tile")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 3, 4, 2]))
        try g.append(Node(name: "m", op: .reduceMean(ReduceMean(axes: [1, 3], keepDims: true)), inputs: ["x"], output: "m"))
        try g.append(Node(name: "t", op: .tile(Tile([1, 3, 1, 2])), inputs: ["m"], output: "t"))
        try g.append(Node(name: "y", op: .elementwise(.subtract), inputs: ["x", "t"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: g.shapes["y"]!)]
        try g.verify()
        let x = try sampleInput([3, 4, 2], batch: 2).reshaped([2, 3, 4, 2])
        for opset in [13, 18, 21] {
            var options = ONNXExportOptions()
            options.opset = opset
            let exported = try ONNXExporter.export(g, options: options)
            let imported = try ONNXImporter.importModel(from: exported.data, file: "reduce_tile.onnx")
            XCTAssertEqual(imported.nodes.map(\.op), g.nodes.map(\.op), "opset \(opset)")
            XCTAssertEqual(try ONNXExporter.export(imported, options: options).data, exported.data, "opset \(opset)")
            assertClose(try Executor(graph: imported).run(x), try Executor(graph: g).run(x), tolerance: 1e-6)
        }
    }
}
