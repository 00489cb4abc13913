import Dispatch
import TensorCore

/// Floats the largest activation of one batch slice may take: large batches run as slices
/// whose working set stays in the last-level cache (each pass over a ResNet50 activation at
/// batch 32 would otherwise stream ~100 MB from memory).
let sliceActivationBudget = 1 << 20

extension Executor {
    /// Runs a single-input graph on `x` (N×…) with `threads` threads (`run(feeds:threads:)`).
    public func run(_ x: Tensor, threads: Int) throws -> Tensor {
        guard let input = graph.inputs.first else { throw ModelPressError.invalidArgument("the model has no input") }
        return try run(feeds: [input.name: x], threads: threads)
    }

    /// Runs the graph on `feeds` (input name → N×…, the same N) with `threads` threads; returns
    /// the first output. The batch is cut into contiguous slices of at most `cacheFriendlyBatch`
    /// samples; with several threads the slices are dealt round-robin to `threads` workers,
    /// each on single-threaded BLAS (small GEMMs do not scale inside BLAS); a batch too small to
    /// share runs with BLAS using `threads`. Deterministic for a given batch size and thread
    /// count; across configurations outputs agree to float rounding (GEMM widths differ).
    public func run(feeds: [String: Tensor], threads: Int) throws -> Tensor {
        let n = feeds.values.first?.shape.first ?? 0
        let workers = threads > 1 && n >= 2 * threads ? threads : 1
        let size = max(1, min(cacheFriendlyBatch, (n + workers - 1) / workers))
        BLAS.setThreads(workers > 1 ? 1 : max(1, threads))
        if n <= size { return try firstOutput(feeds) }
        let slices = stride(from: 0, to: n, by: size).map { $0..<min(n, $0 + size) }
        var results = [Result<Tensor, Error>?](repeating: nil, count: slices.count)
        results.withUnsafeMutableBufferPointer { out in
            let slots = DisjointSlots(base: out.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for i in stride(from: worker, to: slices.count, by: workers) {
                    let rows = slices[i]
                    slots.base[i] = Result {
                        let part = try feeds.mapValues { x in
                            let sampleSize = x.count / n
                            return try Tensor(
                                shape: [rows.count] + x.shape.dropFirst(),
                                storage: Array(x.storage[(rows.lowerBound * sampleSize)..<(rows.upperBound * sampleSize)]))
                        }
                        return try firstOutput(part)
                    }
                }
            }
        }
        var storage: [Float] = []
        storage.reserveCapacity(n * max(1, graph.outputs.first.flatMap { Checked.product($0.shape.dropFirst()) } ?? 1))
        var sampleShape: [Int] = []
        for result in results {
            guard let result else { throw ModelPressError.internalError("a batch slice produced no result") }
            let t = try result.get()
            sampleShape = Array(t.shape.dropFirst())
            storage.append(contentsOf: t.storage)
        }
        return try Tensor(shape: [n] + sampleShape, storage: storage)
    }
}

extension Executor {
    /// The first output of the graph on `feeds`.
    fileprivate func firstOutput(_ feeds: [String: Tensor]) throws -> Tensor {
        guard let y = try run(feeds).first else { throw ModelPressError.internalError("the model computed no output") }
        return y
    }
}

/// Result slots each written by exactly one concurrent iteration (disjoint indices, joined
/// before they are read), which is why sharing the pointer across threads is safe.
private struct DisjointSlots<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}
