import TensorCore

extension Executor {
    /// Streams the first `samples` (all when nil) samples of `data` through the graph in
    /// batches of `batchSize`, calling `observe` with every value of every batch (graph inputs,
    /// then node outputs in order; see `run(_:observe:)`).
    public func observe(_ data: any BatchSource, samples: Int?, batchSize: Int, _ observe: ValueObserver) throws {
        let total = min(samples ?? data.count, data.count)
        var start = 0
        while start < total {
            let rows = start..<min(start + max(1, batchSize), total)
            let feeds = try data.feeds(rows, for: graph.inputs, model: graph.metadata["source_path"])
            _ = try withoutActuallyEscaping(observe) { try run(feeds, observe: $0) }
            start = rows.upperBound
        }
    }
}
