import Foundation
import TensorCore

/// A model under verification: its graph and the path it was read from (named in errors and reports).
public struct VerifiedModel {
    /// The graph as read from `path`.
    public var graph: Graph
    /// The file the graph came from.
    public var path: String

    /// `graph`, read from `path`.
    public init(_ graph: Graph, path: String) {
        self.graph = graph
        self.path = path
    }
}

extension VerificationReport {
    /// Runs reference and candidate over every sample of `data` (`dataPath`, with its input
    /// and label dataset names) in batches of `batchSize`, and compares them under
    /// `settings`: what `modelpress verify` reports. `progress(label, done, total)` per batch.
    public static func run(
        reference: VerifiedModel, candidate: VerifiedModel, data: any LabelledBatchSource, dataPath: String,
        xKey: String, yKey: String, batchSize: Int, settings: VerificationSettings,
        progress: (String, Int, Int) -> Void = { _, _, _ in }
    ) throws -> VerificationReport {
        let limits = settings.limits
        let referenceOutputs = try predict(reference, label: "reference", data: data, batchSize: batchSize, progress: progress)
        let candidateOutputs = try predict(candidate, label: "candidate", data: data, batchSize: batchSize, progress: progress)
        guard referenceOutputs.shape == candidateOutputs.shape else {
            throw ModelPressError.invalidArgument(
                """
                \(candidate.path): outputs have shape \(candidateOutputs.shape) on \(dataPath); \
                the reference \(reference.path) gives \(referenceOutputs.shape).
                HINT: verify compares two versions of the same model; pick the matching reference.
                """)
        }
        let classes = referenceOutputs.rank == 2 ? (referenceOutputs.shape.last ?? 0) : 0
        let isClassifier = classes >= 2
        if !isClassifier && (limits.needsLabels || limits.needsClasses) {
            throw ModelPressError.invalidArgument(
                """
                \(reference.path): outputs of shape \(referenceOutputs.shape) are not N×classes, so accuracy, \
                agreement and KL gates cannot be measured (only MSE/MAE drift).
                HINT: drop --max-drop / --max-relative-drop / --min-agreement / --max-kl for this model.
                """)
        }
        let labels = isClassifier && data.hasLabels ? try data.labels(0..<data.count, classes: classes) : nil
        let summary = DataSummary(
            path: dataPath, xKey: xKey, yKey: data.hasLabels ? yKey : nil,
            samples: data.count, outputShape: referenceOutputs.shape)
        return compare(
            reference: referenceOutputs, candidate: candidateOutputs, labels: labels,
            data: summary, referencePath: reference.path, candidatePath: candidate.path,
            settings: settings)
    }

    /// All outputs of `model` on `data`; errors about the data also name the model.
    private static func predict(
        _ model: VerifiedModel, label: String, data: any LabelledBatchSource, batchSize: Int, progress: (String, Int, Int) -> Void
    ) throws -> Tensor {
        do {
            let runner = try DatasetRunner(graph: model.graph, batchSize: batchSize)
            return try runner.predict(data) { progress(label, $0, $1) }
        } catch ModelPressError.invalidData(let file, let dataPath, let message) {
            // Name the model before the HINT line: "… expects [8, 8, 1] (reference model m.h5).\nHINT: …"
            let parts = message.components(separatedBy: "\nHINT:")
            let named = parts[0] + " (\(label) model \(model.path))" + parts.dropFirst().map { "\nHINT:" + $0 }.joined()
            throw ModelPressError.invalidData(file: file, path: dataPath, message: named)
        } catch ModelPressError.invalidArgument(let message) where message.hasPrefix("the model") {
            throw ModelPressError.invalidArgument("\(model.path): \(message)")
        }
    }
}
