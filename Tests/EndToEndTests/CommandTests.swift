import Foundation
import ModelIO
import Testing
import _TestSupport

/// The inspect / eval / predict commands, run as a user runs them, checked against Keras's
/// reference outputs and hand-counted parameters.
@Suite("inspect, eval and predict from the command line")
struct CommandTests {
    struct EvalJSON: Decodable { let accuracy: Double; let samples: Int; let top5_accuracy: Double? }

    @Test("eval --json reports Keras's accuracy", arguments: ["keras3/cnn.h5", "keras2/functional.h5", "keras3/cnn.keras"])
    func evalJSON(_ model: String) throws {
        let result = try runModelPress(["eval", "fixtures/models/" + model, "--data", "fixtures/data/digits_test.h5", "--json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(EvalJSON.self, from: Data(result.stdout.utf8))
        let expected = try Fixtures.expected(forModel: model)
        #expect(report.samples == 360)
        #expect(abs(report.accuracy - (expected.accuracy ?? -1)) < 1e-12)
        #expect((report.top5_accuracy ?? 0) >= report.accuracy)
    }

    @Test("predict writes y_pred equal to Keras's within 1e-5")
    func predict() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("pred.h5").path
        let result = try runModelPress(["predict", "fixtures/models/keras2/cnn.h5", "--data", "fixtures/data/digits_test.h5", "-o", out])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let ours = try HDF5File(readingFrom: out).root.dataset("y_pred").readTensor()
        let keras = try Fixtures.expected(forModel: "keras2/cnn.h5").predictions
        #expect(ours.shape == [360, 10])
        #expect(maxAbsDifference(ours.storage, keras.storage) < 1e-5)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers == ["pred.h5"], "no temporary files left: \(leftovers)")
    }

    @Test("predict on the flattened 64-vectors of an 8×8×1 model reads them row-major")
    func predictFlat() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("pred.h5").path
        let result = try runModelPress([
            "predict", "fixtures/models/keras3/mlp.h5", "--data", "fixtures/data/digits_test.h5",
            "--x-key", "x_flat", "-o", out, "--batch-size", "7",
        ])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let ours = try HDF5File(readingFrom: out).root.dataset("y_pred").readTensor()
        #expect(maxAbsDifference(ours.storage, try Fixtures.expected(forModel: "keras3/mlp.h5").predictions.storage) < 1e-5)
    }

    struct InspectJSON: Decodable {
        struct Layer: Decodable { let name: String; let op: String; let parameters: Int; let macs: Int; let bits: Int; let bytes: Int; let sparsity: Double }
        let layers: [Layer]
        let totals: [String: Int]
    }

    @Test("inspect --json counts parameters and MACs of the digits CNN as worked by hand")
    func inspect() throws {
        let result = try runModelPress(["inspect", "fixtures/models/keras3/cnn.h5", "--json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(InspectJSON.self, from: Data(result.stdout.utf8))
        // conv 3·3·1·16+16, conv 3·3·16·32+32, dense 128·64+64, dense 64·10+10
        #expect(report.totals["parameters"] == 160 + 4_640 + 8_256 + 650)
        // MACs: 8·8·16·9 + 4·4·32·144 + 128·64 + 64·10
        #expect(report.totals["macs"] == 9_216 + 73_728 + 8_192 + 640)
        #expect(report.layers.first { $0.name == "conv_2/conv" }?.parameters == 4_640)
        #expect(report.layers.first { $0.name == "conv_2" }?.op == "Activation(relu)")
    }

    @Test("inspect counts stored bytes and bits of an int8 file as worked by hand")
    func inspectQuantized() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let q = dir.appendingPathComponent("cnn-int8.onnx").path
        let quantize = try runModelPress(["quantize", "fixtures/models/keras3/cnn.h5", "-o", q, "--calibration", "fixtures/data/digits_train.h5", "-q"])
        #expect(quantize.exitCode == 0, "\(quantize.stderr)")
        let float = try JSONDecoder().decode(InspectJSON.self, from: Data(try runModelPress(["inspect", "fixtures/models/keras3/cnn.h5", "--json"]).stdout.utf8))
        let int8 = try JSONDecoder().decode(InspectJSON.self, from: Data(try runModelPress(["inspect", q, "--json"]).stdout.utf8))
        let floatConv = try #require(float.layers.first { $0.name == "conv_2/conv" })
        let int8Conv = try #require(int8.layers.first { $0.name == "conv_2/conv" })
        #expect(floatConv.bits == 32 && floatConv.bytes == 4_640 * 4 && floatConv.sparsity == 0)
        // 3·3·16·32 int8 weights + 32 int32 biases
        #expect(int8Conv.bits == 8 && int8Conv.bytes == 4_608 + 32 * 4)
    }
}
