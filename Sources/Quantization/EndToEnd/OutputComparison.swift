import Engine
import Evaluation
import TensorCore

/// How far a compressed graph's outputs drift from the float graph's on a dataset, in the engine.
struct OutputComparison {
    /// Max / mean |Δ| and MSE of the outputs.
    var drift: OutputDrift
    /// Top-1 agreement (nil unless the output is one row of scores per sample).
    var agreement: Double?

    /// Runs both prepared graphs over `data`.
    init(reference: Graph, candidate: Graph, data: any BatchSource, batchSize: Int) throws {
        let r = try DatasetRunner(prepared: reference, batchSize: batchSize).predict(data)
        let c = try DatasetRunner(prepared: candidate, batchSize: batchSize).predict(data)
        drift = OutputDrift(reference: r.storage, candidate: c.storage)
        agreement = r.rank == 2 && r.shape[1] > 1 ? ComparisonMetrics.agreement(argmaxRows(r), argmaxRows(c)) : nil
    }
}
