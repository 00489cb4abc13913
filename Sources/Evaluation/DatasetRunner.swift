import Engine
import Passes
import TensorCore

/// Runs a model over a dataset file in batches, handing each batch's outputs to a consumer,
/// with progress reports.
public struct DatasetRunner {
    /// The executor running the model.
    public let executor: Executor
    /// Samples per batch.
    public let batchSize: Int
    /// Threads per batch (`Executor.run(_:threads:)`): `OPENBLAS_NUM_THREADS`, else all cores.
    public let threads: Int

    /// A runner for `graph` with batches of `batchSize` samples.
    public init(graph: Graph, batchSize: Int) throws {
        guard batchSize >= 1 else { throw ModelPressError.invalidArgument("--batch-size must be at least 1 (got \(batchSize))") }
        guard graph.inputs.count >= 1, graph.outputs.count >= 1 else {
            throw ModelPressError.invalidArgument("the model has \(graph.inputs.count) inputs and \(graph.outputs.count) outputs; dataset commands need at least one of each")
        }
        try self.init(prepared: try inferenceGraph(graph), batchSize: batchSize)
    }

    /// A runner for `graph` as it is (already prepared for inference, e.g. annotated for
    /// fake quantization: the export passes are not run again).
    public init(prepared graph: Graph, batchSize: Int) throws {
        guard batchSize >= 1 else { throw ModelPressError.invalidArgument("--batch-size must be at least 1 (got \(batchSize))") }
        guard graph.inputs.count >= 1, graph.outputs.count >= 1 else {
            throw ModelPressError.invalidArgument("the model has \(graph.inputs.count) inputs and \(graph.outputs.count) outputs; dataset commands need at least one of each")
        }
        executor = Executor(graph: graph)
        self.batchSize = batchSize
        threads = BLAS.threads
    }

    /// Calls `body(rows, output)` for each batch of `data` with the model's first output
    /// (N×…) for those rows; `progress(done, total)` after each batch.
    public func forEachBatch(
        _ data: any BatchSource, progress: (Int, Int) -> Void = { _, _ in },
        _ body: (Range<Int>, Tensor) throws -> Void
    ) throws {
        let model = executor.graph.metadata["source_path"]
        var start = 0
        while start < data.count {
            let rows = start..<min(start + batchSize, data.count)
            let output = try executor.run(feeds: try data.feeds(rows, for: executor.graph.inputs, model: model), threads: threads)
            try body(rows, output)
            start = rows.upperBound
            progress(start, data.count)
        }
    }

    /// All outputs for `data`, concatenated along the batch axis.
    public func predict(_ data: any BatchSource, progress: (Int, Int) -> Void = { _, _ in }) throws -> Tensor {
        var storage: [Float] = []
        var sampleShape: [Int] = []
        try forEachBatch(data, progress: progress) { _, output in
            sampleShape = Array(output.shape.dropFirst())
            storage.append(contentsOf: output.storage)
        }
        return try Tensor(shape: [data.count] + sampleShape, storage: storage)
    }
}

/// `graph` rewritten for execution by the same passes `export` applies (BatchNorm folded into
/// convolutions, channels-last Flatten folded into weights, identities dropped), so the engine
/// computes what the exported file computes.
public func inferenceGraph(_ graph: Graph) throws -> Graph {
    try runPasses(exportPasses, on: graph).0
}
