import Foundation
import ONNXIO
import ONNXProto
import TensorCore
import XCTest

/// Damaged files and unsupported operators fail with `ModelPressError`s (exit 2) naming the
/// file, the node and the operator.
final class MalformedONNXTests: XCTestCase {
    func testTruncatedAndGarbageBytes() throws {
        let data = try ONNXExporter.export(try RoundTripTests.cnn()).data
        for cut in [data.count / 3, data.count / 2, data.count - 7] {
            XCTAssertThrowsError(try ONNXImporter.importModel(from: data.prefix(cut), file: "cut.onnx")) { error in
                guard let e = error as? ModelPressError else { return XCTFail("not a ModelPressError: \(error)") }
                XCTAssertEqual(e.exitCode, 2)
                XCTAssert("\(e)".contains("cut.onnx"), "\(e)")
            }
        }
        XCTAssertThrowsError(try ONNXImporter.importModel(from: Data("not a model at all".utf8), file: "junk.onnx")) { error in
            XCTAssertEqual((error as? ModelPressError)?.exitCode, 2)
        }
        XCTAssertThrowsError(try ONNXImporter.importModel(from: Data(), file: "empty.onnx")) { error in
            XCTAssertEqual((error as? ModelPressError)?.exitCode, 2)
        }
    }

    /// A model `x → <opType> → y` with `x` of shape N×4.
    func model(opType: String, domain: String = "") throws -> Data {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.domain = domain
        node.name = "mystery_node"
        node.input = ["x"]
        node.output = ["y"]
        var g = Onnx_GraphProto()
        g.name = "g"
        g.node = [node]
        var x = Onnx_ValueInfoProto()
        x.name = "x"
        var t = Onnx_TypeProto.Tensor()
        t.elemType = 1
        var s = Onnx_TensorShapeProto()
        var d0 = Onnx_TensorShapeProto.Dimension(), d1 = Onnx_TensorShapeProto.Dimension()
        d0.dimParam = "N"
        d1.dimValue = 4
        s.dim = [d0, d1]
        t.shape = s
        x.type.tensorType = t
        var y = x
        y.name = "y"
        g.input = [x]
        g.output = [y]
        var m = Onnx_ModelProto()
        m.irVersion = 7
        var o = Onnx_OperatorSetIdProto()
        o.version = 13
        m.opsetImport = [o]
        m.graph = g
        return try m.serializedData()
    }

    func testUnsupportedOperatorNamesNodeAndOp() throws {
        XCTAssertThrowsError(try ONNXImporter.importModel(from: try model(opType: "LSTM"), file: "rnn.onnx")) { error in
            guard let e = error as? ModelPressError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.exitCode, 2)
            let message = "\(e)"
            XCTAssert(message.contains("rnn.onnx") && message.contains("mystery_node") && message.contains("LSTM"), message)
        }
        XCTAssertThrowsError(try ONNXImporter.importModel(from: try model(opType: "DequantizeLinear"), file: "q.onnx")) { error in
            XCTAssert("\(error)".contains("quantized"), "\(error)")
        }
        XCTAssertThrowsError(try ONNXImporter.importModel(from: try model(opType: "Relu", domain: "com.example"), file: "d.onnx")) { error in
            XCTAssert("\(error)".contains("com.example.Relu"), "\(error)")
        }
    }

    func testSupportedSingleOpModelImports() throws {
        let g = try ONNXImporter.importModel(from: try model(opType: "Relu"), file: "relu.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.activation(.relu)])
        XCTAssertEqual(g.inputs, [ValueInfo(name: "x", shape: [dynamicBatch, 4])])
        XCTAssertEqual(g.outputs, [ValueInfo(name: "y", shape: [dynamicBatch, 4])])
    }
}

/// Damaged bytes anywhere in a file never crash the importer: it returns a graph or throws a
/// `ModelPressError`.
final class CorruptedONNXTests: XCTestCase {
    func testEveryTruncationAndByteFlipFailsCleanly() throws {
        let data = try ONNXExporter.export(try RoundTripTests.cnn()).data
        var failures = 0
        for cut in stride(from: 0, to: data.count, by: 13) {
            do { _ = try ONNXImporter.importModel(from: data.prefix(cut), file: "cut.onnx") } catch is ModelPressError { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 0)
        var state: UInt64 = 99
        for _ in 0..<2000 {
            var bytes = [UInt8](data)
            for _ in 0..<3 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes[Int(state >> 33) % bytes.count] = UInt8(truncatingIfNeeded: state >> 17)
            }
            do { _ = try ONNXImporter.importModel(from: Data(bytes), file: "flipped.onnx") } catch is ModelPressError {}
        }
    }
}
