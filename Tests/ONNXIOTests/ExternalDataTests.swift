import Foundation
import ONNXIO
import TensorCore
import XCTest

/// External data past the inline limit: written beside the model, read back to the same IR.
final class ExternalDataTests: XCTestCase {
    func testWeightsPastTheInlineLimitMoveToADataFileAndReadBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Two Dense layers: 64×32 and 32×10 kernels (8 KiB and 1.25 KiB), a 40-byte bias left inline.
        var m = try GraphMaker("mlp", input: [64])
        let w1 = try m.weight("w1", [64, 32]), b1 = try m.weight("b1", [32])
        try m.add("dense1", .linear, ["input", w1, b1])
        let w2 = try m.weight("w2", [32, 10]), b2 = try m.weight("b2", [10])
        try m.add("dense2", .linear, ["dense1", w2, b2])
        m.outputs("dense2")
        let graph = m.graph
        let inline = try ONNXExporter.export(graph)
        var options = ONNXExportOptions()
        options.inlineLimit = 100  // as if the weights were past protobuf's 2 GB
        let path = folder.appendingPathComponent("m.onnx").path
        let written = try ONNXExporter.write(graph, to: path, options: options)
        let data = try Data(contentsOf: URL(fileURLWithPath: path + ".data"))
        XCTAssertEqual(written.externalData.map { Data($0.joined()) }, data)
        XCTAssertEqual(data.count, 4096 * 2 + 32 * 10 * 4, "w1 at 0, w2 at 8192 (4096-aligned)")
        XCTAssertLessThan(written.data.count, inline.data.count)
        XCTAssertEqual(written.bytes, written.data.count + data.count)
        let imported = try ONNXImporter.importModel(path: path)
        XCTAssertEqual(imported.initializers, inline.graph.initializers)
        XCTAssertEqual(try ONNXExporter.export(imported).data, inline.data)
        // Without the data file the model is refused, naming it.
        try FileManager.default.removeItem(atPath: path + ".data")
        XCTAssertThrowsError(try ONNXImporter.importModel(path: path)) { error in
            XCTAssertTrue("\(error)".contains("m.onnx.data"), "\(error)")
        }
    }
}
