import ArgumentParser
import Evaluation
import Foundation
import ModelIO
import Quantization
import TensorCore

/// `modelpress predict`: the model's outputs for every sample, written as dataset `y_pred`.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Write a model's outputs on an HDF5 dataset to OUT.h5 (dataset y_pred, float32 N×…).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .shortAndLong, help: "Output HDF5 file (written atomically).")
    var out: String

    @Flag(help: "Run a quantized model on the integer-only engine (int32 accumulators, fixed-point requantization).")
    var integer = false

    @Option(help: "Requantization rounding of --integer: single (one 64-bit rounding shift) or double (gemmlowp).")
    var rounding = RequantizationRounding.singleRounding

    func run() throws {
        let graph = try model.load(feeding: dataset)
        let data = try dataset.open(requireLabels: false)
        let progress = ProgressReporter("predict", quiet: output.quiet)
        let predictions =
            integer
            ? try IntegerExecutor(graph: try inferenceGraph(graph), rounding: rounding).predict(data, batchSize: dataset.batchSize, progress: progress.update)
            : try DatasetRunner(graph: graph, batchSize: dataset.batchSize).predict(data, progress: progress.update)
        try PredictionWriter.write(
            predictions, to: out,
            attributes: [
                "model": model.model, "model_sha256": graph.metadata["source_sha256"] ?? "", "data": dataset.data,
                "x_key": dataset.xKey, "producer": "modelpress \(ModelPressVersion.string)",
            ])
        if !output.quiet { print("wrote \(out): y_pred \(predictions.shape)") }
    }
}
