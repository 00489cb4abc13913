import Engine
import TensorCore

/// Statistics of one activation over the calibration set, in constant memory.
public struct ActivationStatistics: Sendable {
    /// Running extremes.
    public var minMax = MinMaxObserver()
    /// |x| histogram (for the percentile, entropy and MSE methods).
    public var histogram: HistogramObserver?

    /// Statistics that have seen nothing, with a histogram when given one.
    public init(histogram: HistogramObserver? = nil) {
        self.histogram = histogram
    }

    /// The clipping range `[lo, hi]` `method` chooses: min/max as observed, or the histogram
    /// bound `b` applied to both sides (`[max(min, −b), min(max, b)]`). `bits` sets the grid
    /// the entropy and MSE methods optimise for (16 bits: 32,768 / 65,536 levels, more than the
    /// histogram's bins, so entropy keeps the whole range).
    public func range(_ method: CalibrationMethod, percentile: Double, unsigned: Bool, bits: Int = 8) -> (lo: Float, hi: Float) {
        let lo = minMax.min, hi = minMax.max
        guard let histogram, method != .minmax else { return (lo, hi) }
        let bound: Float
        switch method {
        case .minmax: bound = histogram.maxAbs
        case .percentile: bound = histogram.percentileBound(percentile)
        case .entropy: bound = histogram.entropyBound(levels: unsigned && lo >= 0 ? 1 << bits : 1 << (bits - 1), ignoringZeroBin: unsigned && lo >= 0)
        case .mse: bound = histogram.mseBound(levels: unsigned && lo >= 0 ? (1 << bits) - 1 : (1 << (bits - 1)) - 1)
        }
        return (max(lo, -bound), min(hi, bound))
    }
}

/// Streams a calibration dataset through the float engine in batches and gathers statistics
/// of the named values (memory independent of the sample count).
public struct Calibrator {
    /// The float graph run (prepared for inference).
    public let graph: Graph
    /// Values observed.
    public let values: Set<String>
    /// Samples per batch.
    public var batchSize = 64

    /// A calibrator observing `values` of `graph`.
    public init(graph: Graph, values: Set<String>) {
        self.graph = graph
        self.values = values
    }

    /// Statistics over the first `samples` (all when nil) samples of `data`; histograms are
    /// kept when `histograms`. Fails with `.invalidData` when a value becomes NaN or infinite.
    public func run(
        _ data: any BatchSource, samples: Int? = nil, histograms: Bool,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> [String: ActivationStatistics] {
        let total = min(samples ?? data.count, data.count)
        guard total >= 1 else { throw ModelPressError.invalidData(file: data.path, path: data.inputName, message: "holds no calibration samples") }
        let executor = Executor(graph: graph)
        let layers = Dictionary(graph.nodes.map { ($0.output, $0.layer) }, uniquingKeysWith: { a, _ in a })
        var stats: [String: ActivationStatistics] = [:]
        for name in values { stats[name] = ActivationStatistics(histogram: histograms ? HistogramObserver() : nil) }
        var start = 0
        while start < total {
            let rows = start..<min(start + batchSize, total)
            _ = try executor.run(try data.feeds(rows, for: graph.inputs, model: graph.metadata["source_path"])) { name, value in
                guard var s = stats[name] else { return }
                let finite = value.storage.withUnsafeBufferPointer { p in s.minMax.observe(p) }
                guard finite else {
                    let layer = layers[name].map { " (layer '\($0)')" } ?? ""
                    throw ModelPressError.invalidData(
                        file: data.path, path: data.inputName,
                        message:
                            "samples \(rows.lowerBound)..<\(rows.upperBound) make value '\(name)'\(layer) NaN or infinite; the activations cannot be calibrated.\nHINT: check the data's scale (the model expects inputs like its training data)."
                    )
                }
                value.storage.withUnsafeBufferPointer { p in s.histogram?.observe(p) }
                stats[name] = s
            }
            start = rows.upperBound
            progress(start, total)
        }
        return stats
    }
}
