import ArgumentParser
import Evaluation
import Foundation
import ModelIO

/// `modelpress predict`: the model's outputs for every sample, written as dataset `y_pred`.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Write a model's outputs on an HDF5 dataset to OUT.h5 (dataset y_pred, float32 N×…).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .shortAndLong, help: "Output HDF5 file (written atomically).")
    var out: String

    func run() throws {
        let graph = try model.load()
        let data = try dataset.open(requireLabels: false)
        let runner = try DatasetRunner(graph: graph, batchSize: dataset.batchSize)
        let predictions = try runner.predict(data, progress: ProgressReporter("predict", quiet: output.quiet).update)
        try PredictionWriter.write(predictions, to: out, attributes: [
            "model": model.model, "model_sha256": graph.metadata["source_sha256"] ?? "", "data": dataset.data,
            "x_key": dataset.xKey, "producer": "modelpress \(ModelPressVersion.string)",
        ])
        if !output.quiet { print("wrote \(out): y_pred \(predictions.shape)") }
    }
}
