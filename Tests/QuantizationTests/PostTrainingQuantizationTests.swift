import Evaluation
import Foundation
import ModelIO
import ModelLoading
import ONNXIO
import Quantization
import TensorCore
import Testing
import _TestSupport

/// `PostTrainingQuantization.run` end to end on the digits CNN: the file it writes, and its
/// summary checked against values computed here from the float weights and the data.
@Suite("post-training quantization end to end")
struct PostTrainingQuantizationTests {
    static let model = Fixtures.path("models/keras3/cnn.h5")
    static let digits = Fixtures.path("data/digits_test.h5")

    @Test("static int8: scales from the weights and the data, bytes on disk, the file re-reads")
    func staticQuantization() throws {
        let graph = try ModelLoader.load(Self.model)
        let calibration = try DatasetFile(path: Self.digits, yKey: nil)
        let out = try temporaryDirectory().appendingPathComponent("q.onnx").path
        var request = QuantizationRequest()
        request.samples = 100
        let outcome = try PostTrainingQuantization.run(graph, model: "cnn.h5", out: out, request: request, calibration: calibration)
        let s = outcome.summary

        #expect(s.bytes == (try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int))
        #expect(s.calibrationSamples == 100 && s.opset == 13 && s.format == "qdq" && !s.dynamic)
        let float = try inferenceGraph(graph)
        let computeNodes = float.nodes.filter {
            if case .conv2D = $0.op { return true }; if case .linear = $0.op { return true }; return false
        }
        #expect(s.layers.map(\.node) == computeNodes.map(\.name))
        for (layer, node) in zip(s.layers, computeNodes) {
            // Symmetric int8 per channel: the largest scale is max|W| / 127.
            let w = try #require(float.initializers[node.inputs[1]])
            let expected = (w.storage.map(abs).max() ?? 0) / 127
            #expect(abs(layer.weightScaleMax - expected) <= expected * 1e-6, "\(layer.node)")
        }
        // uint8 min/max on the first 100 images (min 0): scale max(x)/255, zero point 0.
        let x = try calibration.inputs(0..<100).storage
        #expect(x.min() == 0)
        #expect(abs((s.layers[0].inputScale ?? 0) - (x.max() ?? 0) / 255) <= 1e-7 && s.layers[0].inputZeroPoint == 0)

        let reread = try ModelLoader.load(out)
        // The file holds one int8 weight per quantized layer (activations are uint8, biases int32).
        #expect(reread.quantization.values.filter { $0.type == .int8 }.count == computeNodes.count)
        let test = try DatasetFile(path: Self.digits, requireLabels: true)
        let floatAccuracy = try DatasetAccuracy.accuracy(of: graph, on: test, batchSize: 64)
        #expect(abs(try DatasetAccuracy.accuracy(of: reread, on: test, batchSize: 64) - floatAccuracy) <= 0.02)
    }

    @Test("under a zero budget the written file is the configuration the search reports")
    func budgetIsWhatIsWritten() throws {
        let graph = try ModelLoader.load(Self.model)
        let calibration = try DatasetFile(path: Self.digits, yKey: nil)
        let test = try DatasetFile(path: Self.digits, requireLabels: true)
        let out = try temporaryDirectory().appendingPathComponent("budget.onnx").path
        var request = QuantizationRequest()
        request.maxDrop = 0
        request.measureErrors = false
        let outcome = try PostTrainingQuantization.run(
            graph, model: "cnn.h5", out: out, request: request, calibration: calibration,
            test: test, testName: "digits_test.h5")
        let budget = try #require(outcome.summary.budget)
        #expect(budget.floatAccuracy == (try DatasetAccuracy.accuracy(of: graph, on: test, batchSize: 64)))
        #expect(budget.accuracy == (try DatasetAccuracy.accuracy(of: try ModelLoader.load(out), on: test, batchSize: 64)))
        #expect(budget.met == (budget.drop <= 1e-9) && budget.samples == 360 && budget.data == "digits_test.h5")
        #expect(outcome.summary.layers.allSatisfy { $0.mse == 0 })
    }

    @Test("dynamic int8 needs no data; unknown --exclude names and quantized inputs are refused")
    func dynamicAndRefusals() throws {
        let graph = try ModelLoader.load(Self.model)
        let directory = try temporaryDirectory()
        var request = QuantizationRequest()
        request.dynamic = true
        let out = directory.appendingPathComponent("dyn.onnx").path
        let outcome = try PostTrainingQuantization.run(graph, model: "cnn.h5", out: out, request: request, calibration: nil)
        #expect(outcome.summary.dynamic && outcome.summary.calibrationSamples == 0 && !outcome.summary.layers.isEmpty)
        #expect(outcome.summary.layers.allSatisfy { $0.inputScale == nil && $0.bits == 8 })

        var excluding = QuantizationRequest()
        excluding.options.exclude = ["nope"]
        let unknown = #expect(throws: ModelPressError.self) {
            try PostTrainingQuantization.run(graph, model: "cnn.h5", out: directory.appendingPathComponent("x.onnx").path, request: excluding, calibration: nil)
        }
        #expect("\(unknown.map { "\($0)" } ?? "")".contains("--exclude nope"))
        #expect(throws: ModelPressError.self) {
            try PostTrainingQuantization.run(
                try ModelLoader.load(out), model: "dyn.onnx", out: directory.appendingPathComponent("y.onnx").path,
                request: request, calibration: nil)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("x.onnx").path))
    }
}
