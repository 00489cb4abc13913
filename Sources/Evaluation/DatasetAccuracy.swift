import Foundation
import TensorCore

/// Accuracy of a classifier over a labelled dataset: the batched run `eval`, `sensitivity`
/// and the quantization budget share.
public enum DatasetAccuracy {
    /// The number of classes of a classifier (first output N×classes, classes ≥ 2), else nil.
    public static func classes(of graph: Graph) -> Int? {
        guard let shape = graph.outputs.first?.shape, shape.count == 2, let classes = shape.last, classes >= 2 else { return nil }
        return classes
    }

    /// The classes of `graph`, or `invalidArgument` (exit 2) naming `model`: "<model>: output
    /// shape … is not N×classes; <purpose> measures classifiers".
    public static func requireClassifier(_ graph: Graph, model: String, purpose: String) throws -> Int {
        guard let classes = classes(of: graph) else {
            throw ModelPressError.invalidArgument("\(model): output shape \(graph.outputs.first?.shape ?? []) is not N×classes; \(purpose) measures classifiers")
        }
        return classes
    }

    /// Top-1 / top-5 counts of `runner`'s model on every sample of `data` (labels in `0..<classes`).
    public static func metrics(
        _ runner: DatasetRunner, on data: any LabelledBatchSource, classes: Int,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> ClassificationMetrics {
        var metrics = ClassificationMetrics(classes: classes)
        try runner.forEachBatch(data, progress: progress) { rows, scores in
            metrics.add(scores: scores, labels: try data.labels(rows, classes: classes))
        }
        return metrics
    }

    /// Top-1 accuracy of `graph` on `data`: prepared for inference by the export passes unless
    /// `prepared` (an annotated graph is then fake-quantized exactly as its QDQ file computes).
    public static func accuracy(of graph: Graph, on data: any LabelledBatchSource, batchSize: Int, prepared: Bool = false) throws -> Double {
        let runner = prepared ? try DatasetRunner(prepared: graph, batchSize: batchSize) : try DatasetRunner(graph: graph, batchSize: batchSize)
        guard let classes = classes(of: runner.executor.graph) else {
            throw ModelPressError.invalidArgument("the model's output \(graph.outputs.first?.shape ?? []) is not N×classes; accuracy measures classifiers")
        }
        return try metrics(runner, on: data, classes: classes).accuracy
    }
}

/// The result of `DatasetEvaluation.run`: what `modelpress eval` reports.
public struct DatasetEvaluation: Sendable {
    /// Output width of the classifier.
    public var classes: Int
    /// Top-1 / top-5 counts over every sample.
    public var metrics: ClassificationMetrics
    /// Wall time of the run (model execution and data reading).
    public var seconds: Double
    /// Samples per second of that run.
    public var samplesPerSecond: Double { Double(metrics.samples) / max(seconds, 1e-9) }

    /// Evaluates the classifier `graph` (read from `model`, named in errors) on every sample
    /// of `data` in batches of `batchSize`.
    public static func run(
        _ graph: Graph, model: String, on data: any LabelledBatchSource, batchSize: Int,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> DatasetEvaluation {
        let runner = try DatasetRunner(graph: graph, batchSize: batchSize)
        let classes = try DatasetAccuracy.requireClassifier(graph, model: model, purpose: "eval")
        let start = Date()
        let metrics = try DatasetAccuracy.metrics(runner, on: data, classes: classes, progress: progress)
        return DatasetEvaluation(classes: classes, metrics: metrics, seconds: Date().timeIntervalSince(start))
    }
}
