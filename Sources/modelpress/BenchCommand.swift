import ArgumentParser
import Engine
import Evaluation
import Foundation
import TensorCore

/// `modelpress bench`: inference throughput of the ModelPress engine on a model, with seeded
/// random inputs, excluding model loading (what `docs/benchmarks.md` compares with Keras and
/// onnxruntime).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure engine throughput (samples/s) on random inputs of the model's shape.")

    @OptionGroup var model: ModelOptions

    @Option(help: "Samples per batch.")
    var batchSize = 1

    @Option(help: "Measure for at least this many seconds (after warm-up).")
    var seconds = 3.0

    @Option(help: "Warm-up batches (not timed).")
    var warmup = 2

    @Option(help: "Threads: batch slices run in parallel (≥2 samples each), else BLAS threads (default: OPENBLAS_NUM_THREADS or all cores).")
    var threads: Int?

    @Flag(help: "Also print time per op kind.")
    var profile = false

    @Flag(help: "Run every node on its own (no activation or residual Add in convolution epilogues).")
    var noFusion = false

    @Flag(help: "Print JSON.")
    var json = false

    struct Result: Encodable {
        var model: String, batchSize: Int, threads: Int, blasCore: String, batches: Int, seconds: Double
        var samplesPerSecond: Double, millisecondsPerBatch: Double
        enum CodingKeys: String, CodingKey {
            case model, threads, batches, seconds
            case batchSize = "batch_size", blasCore = "blas_core", samplesPerSecond = "samples_per_second", millisecondsPerBatch = "ms_per_batch"
        }
    }

    func run() throws {
        guard batchSize >= 1, seconds > 0, warmup >= 0 else {
            throw ModelPressError.invalidArgument("--batch-size must be ≥ 1, --seconds > 0, --warmup ≥ 0")
        }
        let threadCount = threads ?? BLAS.threads
        if profile { BLAS.setThreads(threadCount) }
        let graph = try inferenceGraph(try model.load())
        let executor = Executor(graph: graph, fusing: !noFusion)
        let feeds = try Dictionary(uniqueKeysWithValues: graph.inputs.map { ($0.name, try seededInput($0, batch: batchSize, in: graph)) })
        // With --profile, batches run whole so op times add up; otherwise as `eval` runs them.
        let opTimes = profile ? ExecutionProfile() : nil
        let forward = { () throws -> Void in
            if let opTimes { _ = try executor.run(feeds, profile: opTimes) } else { _ = try executor.run(feeds: feeds, threads: threadCount) }
        }
        for _ in 0..<warmup { try forward() }
        opTimes?.reset()
        var batches = 0
        let start = Date()
        repeat {
            try forward()
            batches += 1
        } while Date().timeIntervalSince(start) < seconds
        let elapsed = Date().timeIntervalSince(start)
        let result = Result(
            model: model.model, batchSize: batchSize, threads: threadCount, blasCore: BLAS.coreName, batches: batches, seconds: elapsed,
            samplesPerSecond: Double(batches * batchSize) / elapsed, millisecondsPerBatch: elapsed * 1000 / Double(batches))
        if json { try printJSON(result); return }
        if let opTimes {
            print("per-op time (batch run whole, \(BLAS.threads) BLAS thread(s); \(executor.fusedNodes.count) nodes run in convolution epilogues):")
            let rows = opTimes.sorted.map {
                [
                    $0.op, String(format: "%.1f", $0.seconds * 1000 / Double(batches)),
                    String(format: "%.1f%%", 100 * $0.seconds / elapsed), String($0.calls / batches),
                ]
            }
            print(renderTable(header: ["op", "ms/batch", "share", "nodes"], rows: rows, numeric: [1, 2, 3]))
        }
        print(
            String(
                format: "%@: batch %d, %d thread(s), OpenBLAS %@: %.1f samples/s (%.3f ms/batch, %d batches)",
                model.model, batchSize, result.threads, result.blasCore, result.samplesPerSecond, result.millisecondsPerBatch, batches))
    }

    /// A batch for `input` from a fixed LCG seed (the same every run): uniform values in
    /// [−1, 1), or for token ids whole numbers below the smallest table an Embedding reads
    /// them from.
    private func seededInput(_ input: ValueInfo, batch: Int, in graph: Graph) throws -> Tensor {
        var state: UInt64 = 42
        let shape = [batch] + input.shape.dropFirst()
        let count = shape.reduce(1, *)
        let tables = graph.nodes.compactMap { node -> Int? in
            guard case .embedding = node.op, node.inputs.first == input.name else { return nil }
            return graph.shapes[node.inputs[1]]?.first
        }
        let ids = input.elementType == .float32 ? nil : Float(max(1, tables.min() ?? 1))
        let values = (0..<count).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let unit = Float(state >> 40) / Float(1 << 24)
            return ids.map { min(($0 * unit).rounded(.down), $0 - 1) } ?? unit * 2 - 1
        }
        return try Tensor(shape: shape, storage: values)
    }
}
