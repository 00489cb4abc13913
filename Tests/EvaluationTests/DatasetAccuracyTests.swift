import Evaluation
import ModelIO
import ModelLoading
import TensorCore
import Testing
import _TestSupport

/// `DatasetAccuracy` and `DatasetEvaluation` against Keras's own predictions and a hand-worked
/// example.
@Suite("dataset accuracy")
struct DatasetAccuracyTests {
    /// Top-1 accuracy of `scores` (N×classes, row-major) against `labels`, computed here.
    static func referenceAccuracy(_ scores: Tensor, labels: [Int]) -> Double {
        let classes = scores.shape[1]
        var correct = 0
        for (i, label) in labels.enumerated() {
            let row = scores.storage[(i * classes)..<((i + 1) * classes)]
            if row.indices.max(by: { row[$0] < row[$1] }).map({ $0 - i * classes }) == label { correct += 1 }
        }
        return Double(correct) / Double(labels.count)
    }

    /// `y = x` on N×`width` inputs: its scores are the inputs.
    static func identity(width: Int) throws -> Graph {
        var g = Graph(name: "identity")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, width]))
        try g.append(Node(name: "id", op: .identity, inputs: ["x"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, width])]
        return g
    }

    @Test("the digits CNN's accuracy equals the one Keras's predictions give")
    func matchesKeras() throws {
        let graph = try ModelLoader.load(Fixtures.path("models/keras3/cnn.h5"))
        let expected = try Fixtures.expected(forModel: "keras3/cnn")
        let data = try DatasetFile(path: expected.input, xKey: expected.xKey, requireLabels: true)
        let labels = try data.labels(0..<data.count, classes: 10)
        let keras = Self.referenceAccuracy(expected.predictions, labels: labels)
        for batchSize in [1, 7, 64, 1000] {
            #expect(try DatasetAccuracy.accuracy(of: graph, on: data, batchSize: batchSize) == keras)
        }
        let evaluation = try DatasetEvaluation.run(graph, model: "cnn.h5", on: data, batchSize: 50)
        #expect(evaluation.classes == 10 && evaluation.metrics.samples == 360 && evaluation.metrics.accuracy == keras)
    }

    @Test("hand-worked: an identity classifier on four samples gets 3 of 4")
    func handWorked() throws {
        let g = try Self.identity(width: 3)
        let path = try temporaryDirectory().appendingPathComponent("four.h5").path
        // Argmax per row: 0, 2, 1, 1; labels 0, 2, 1, 0 → 3 correct.
        try writeDataset(path: path, x: [5, 1, 0, 0, 1, 9, 0, 3, 2, 1, 4, 0], shape: [4, 3], y: [0, 2, 1, 0])
        let data = try DatasetFile(path: path, requireLabels: true)
        #expect(try DatasetAccuracy.accuracy(of: g, on: data, batchSize: 3) == 0.75)
    }

    @Test("a model whose output is not N×classes is refused, naming the model")
    func refusesNonClassifier() throws {
        let g = try Self.identity(width: 1)
        #expect(DatasetAccuracy.classes(of: g) == nil)
        let error = #expect(throws: ModelPressError.self) { try DatasetAccuracy.requireClassifier(g, model: "scalar.onnx", purpose: "eval") }
        #expect("\(error.map { "\($0)" } ?? "")".contains("scalar.onnx"))
    }
}
