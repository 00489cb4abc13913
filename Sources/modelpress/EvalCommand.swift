import ArgumentParser
import Evaluation
import Foundation
import TensorCore

/// `modelpress eval`: top-1 (and top-5) accuracy of a model over an HDF5 dataset.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Measure a model's accuracy on an HDF5 dataset (x, y).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var output: OutputOptions

    @Flag(help: "Print one JSON object (accuracy, top5_accuracy, samples, …).")
    var json = false

    struct Result: Encodable {
        var model: String, data: String, samples: Int, classes: Int
        var accuracy: Double, top5Accuracy: Double?
        var seconds: Double, samplesPerSecond: Double
        enum CodingKeys: String, CodingKey {
            case model, data, samples, classes, accuracy, seconds
            case top5Accuracy = "top5_accuracy", samplesPerSecond = "samples_per_second"
        }
    }

    func run() throws {
        let graph = try model.load()
        let data = try dataset.open(requireLabels: true)
        let runner = try DatasetRunner(graph: graph, batchSize: dataset.batchSize)
        guard let classes = graph.outputs[0].shape.last, graph.outputs[0].shape.count == 2, classes >= 2 else {
            throw ModelPressError.invalidArgument("\(model.model): output shape \(graph.outputs[0].shape) is not N×classes; eval measures classifiers")
        }
        var metrics = ClassificationMetrics(classes: classes)
        let progress = ProgressReporter("eval", quiet: output.quiet || json)
        let start = Date()
        try runner.forEachBatch(data, progress: progress.update) { rows, scores in
            metrics.add(scores: scores, labels: try data.labels(rows, classes: classes))
        }
        let seconds = Date().timeIntervalSince(start)
        let result = Result(model: model.model, data: dataset.data, samples: metrics.samples, classes: classes,
                            accuracy: metrics.accuracy, top5Accuracy: classes >= 5 ? metrics.top5Accuracy : nil,
                            seconds: seconds, samplesPerSecond: Double(metrics.samples) / max(seconds, 1e-9))
        if json { try printJSON(result); return }
        print(String(format: "accuracy: %.4f (%d/%d)", result.accuracy, metrics.top1Correct, metrics.samples))
        if let top5 = result.top5Accuracy { print(String(format: "top-5:    %.4f", top5)) }
        print(String(format: "%.0f samples/s", result.samplesPerSecond))
    }
}
