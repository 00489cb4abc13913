import Engine
import Foundation
import ModelIO
import ModelLoading
import ONNXIO
import TensorCore
import XCTest
import _TestSupport

/// Real fixture models: Keras checkpoints exported and read back, and the tf2onnx file, all
/// compared with Keras's own predictions (`fixtures/expected`).
final class FixtureModelTests: XCTestCase {
    /// Runs `graph` on the expected file's input and compares with `y_pred`.
    func assertMatchesKeras(
        _ graph: Graph, expected model: String, tolerance: Float = 1e-5,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let expected = try Fixtures.expected(forModel: model)
        let data = try DatasetFile(path: expected.input, xKey: expected.xKey)
        let x = try data.inputs(0..<data.count)
        let y = try Engine.Executor(graph: graph).run(x)
        assertClose(y, expected.predictions, tolerance: tolerance, model, file: file, line: line)
    }

    func testTf2onnxCNNImportsAndMatchesKeras() throws {
        let graph = try ONNXImporter.importModel(path: Fixtures.path("onnx/cnn_tf2onnx.onnx"))
        XCTAssertEqual(graph.inputs.first?.shape, [dynamicBatch, 8, 8, 1])
        XCTAssertEqual(graph.nodes.filter { $0.op == .linear }.count, 2, "MatMul + Add pairs become Linear")
        try assertMatchesKeras(graph, expected: "onnx/cnn_tf2onnx")
        // And it exports to a file that reads back to the same bytes.
        let first = try ONNXExporter.export(graph).data
        let again = try ONNXExporter.export(try ONNXImporter.importModel(from: first, file: "re.onnx")).data
        XCTAssertEqual(first, again)
    }

    func testKerasFixturesExportAndReimport() throws {
        for model in ["keras3/cnn", "keras3/functional", "keras2/zoo_conv", "keras3/zoo_act", "keras2/zoo_misc"] {
            let source = try ModelLoader.load(Fixtures.path("models/\(model).h5"))
            for opset in [13, 21] {
                var options = ONNXExportOptions()
                options.opset = opset
                let exported = try ONNXExporter.export(source, options: options)
                let imported = try ONNXImporter.importModel(from: exported.data, file: model + ".onnx")
                XCTAssertEqual(imported.nodes, exported.graph.nodes, "\(model) opset \(opset)")
                XCTAssertEqual(try ONNXExporter.export(imported, options: options).data, exported.data, "\(model) opset \(opset)")
                try assertMatchesKeras(imported, expected: model)
            }
        }
    }
}
