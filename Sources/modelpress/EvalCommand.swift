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
        let graph = try model.load(feeding: dataset)
        let data = try dataset.open(requireLabels: true)
        let progress = ProgressReporter("eval", quiet: output.quiet || json)
        let evaluation = try DatasetEvaluation.run(graph, model: model.model, on: data, batchSize: dataset.batchSize, progress: progress.update)
        let metrics = evaluation.metrics, classes = evaluation.classes
        let result = Result(
            model: model.model, data: dataset.data, samples: metrics.samples, classes: classes,
            accuracy: metrics.accuracy, top5Accuracy: classes >= 5 ? metrics.top5Accuracy : nil,
            seconds: evaluation.seconds, samplesPerSecond: evaluation.samplesPerSecond)
        if json { try printJSON(result); return }
        print(String(format: "accuracy: %.4f (%d/%d)", result.accuracy, metrics.top1Correct, metrics.samples))
        if let top5 = result.top5Accuracy { print(String(format: "top-5:    %.4f", top5)) }
        print(String(format: "%.0f samples/s", result.samplesPerSecond))
    }
}
