import Engine
import Evaluation
import Foundation
import ModelIO
import ModelLoading
import TensorCore
import Testing
import _TestSupport

/// Every fixture model, read from the file Keras wrote, must compute what Keras computed.
@Suite("Keras import matches Keras's own predictions")
struct KerasImportTests {
    /// (model path under fixtures/models, architecture JSON or nil, absolute tolerance)
    static let trained: [String] = [
        "keras3/mlp.h5", "keras3/cnn.h5", "keras3/functional.h5", "keras3/cnn.keras", "keras3/functional.weights.h5",
        "keras2/mlp.h5", "keras2/cnn.h5", "keras2/functional.h5", "keras2/functional_weights.h5",
        "legacy/cnn_fixedlen.h5",
        // Sequence models trained on the digits rows (8 steps × 8): LSTM, Bidirectional GRU, Transformer encoder.
        "keras3/digits_lstm.h5", "keras3/digits_lstm.keras", "keras2/digits_lstm.h5", "keras3/digits_gru.h5", "keras3/digits_gru.keras",
        "keras2/digits_gru.h5", "keras3/digits_transformer.h5", "keras3/digits_transformer.keras", "keras2/digits_transformer.h5",
    ]
    static let zoo: [String] = [
        "keras3/zoo_conv.h5", "keras3/zoo_act.h5", "keras3/zoo_misc.h5",
        "keras2/zoo_conv.h5", "keras2/zoo_act.h5", "keras2/zoo_misc.h5",
        "keras3/zoo_norm.h5", "keras3/zoo_norm.keras", "keras2/zoo_norm.h5",
    ]

    /// Runs `model` on its expected file's inputs; returns (ours, Keras's).
    func predictions(_ model: String) throws -> (Tensor, Fixtures.Expected) {
        let graph = try ModelLoader.load(Fixtures.path("models/" + model))
        let expected = try Fixtures.expected(forModel: model)
        let data = try DatasetFile(path: expected.input, xKey: expected.xKey, yKey: nil)
        let ours = try DatasetRunner(graph: graph, batchSize: 32).predict(data)
        return (ours, expected)
    }

    @Test("trained digits models: probabilities within 1e-5, accuracy exactly Keras's", arguments: trained)
    func trainedModel(_ model: String) throws {
        let (ours, expected) = try predictions(model)
        #expect(ours.shape == expected.predictions.shape)
        let diff = maxAbsDifference(ours.storage, expected.predictions.storage)
        #expect(diff < 1e-5, "max |ours − Keras| = \(diff)")
        let labels = try DatasetFile(path: Fixtures.path("data/digits_test.h5")).labels(0..<expected.predictions.shape[0], classes: 10)
        let oursCorrect = zip(argmaxRows(ours), labels).filter { $0 == $1 }.count
        let kerasCorrect = zip(argmaxRows(expected.predictions), labels).filter { $0 == $1 }.count
        #expect(oursCorrect == kerasCorrect)
        if let accuracy = expected.accuracy {
            #expect(abs(Double(oursCorrect) / Double(labels.count) - accuracy) < 1e-12)
        }
    }

    @Test("layer zoo (every supported layer): outputs within 1e-5 of Keras", arguments: zoo)
    func zooModel(_ model: String) throws {
        let (ours, expected) = try predictions(model)
        #expect(ours.shape == expected.predictions.shape)
        let diff = maxAbsDifference(ours.storage, expected.predictions.storage)
        #expect(diff < 1e-5 * max(1, expected.predictions.storage.map(abs).max() ?? 1), "max |ours − Keras| = \(diff)")
    }

    @Test("MobileNetV2 (alpha 0.35, 96×96, random weights): logits within 1e-4 relative")
    func mobileNetV2() throws {
        let (ours, expected) = try predictions("keras3/mobilenetv2_96.h5")
        let relative = maxRelativeDifference(ours.storage, expected.predictions.storage)
        #expect(relative < 1e-4, "max relative difference \(relative)")
    }

    static let hasLargeFixtures = FileManager.default.fileExists(atPath: Fixtures.path("large/resnet50.h5"))

    /// ResNet50 is 103 MB, so it is made on the fly (`fixtures/make_fixtures.sh --large`,
    /// run by the benchmark command), not committed; the test runs wherever it exists.
    @Test("ResNet50 (random weights, 224×224): logits within 1e-4 relative", .enabled(if: hasLargeFixtures))
    func resNet50() throws {
        let graph = try ModelLoader.load(Fixtures.path("large/resnet50.h5"))
        let data = try DatasetFile(path: Fixtures.path("large/imagenet_like_224.h5"), yKey: nil)
        let ours = try DatasetRunner(graph: graph, batchSize: 4).predict(data)
        let keras = try HDF5File(readingFrom: Fixtures.path("large/expected_resnet50.h5")).root.dataset("y_pred").readTensor()
        let relative = maxRelativeDifference(ours.storage, keras.storage)
        #expect(relative < 1e-4, "max relative difference \(relative)")
    }
}
