import Dispatch
import TensorCore

extension Executor {
    /// Runs a single-input graph on `x` (N×…) using `threads` threads: with at least two
    /// samples per thread the batch is split into contiguous slices run concurrently, each on
    /// single-threaded BLAS (small GEMMs do not scale inside BLAS); otherwise the whole batch
    /// runs once with BLAS using `threads`. Deterministic for a given batch size and thread
    /// count; across configurations outputs agree to float rounding (GEMM widths differ).
    public func run(_ x: Tensor, threads: Int) throws -> Tensor {
        let n = x.shape.first ?? 0
        guard threads > 1, n >= 2 * threads else {
            BLAS.setThreads(max(1, threads))
            return try run(x)
        }
        BLAS.setThreads(1)
        let per = (n + threads - 1) / threads
        let slices = (0..<threads).map { t in (t * per)..<min(n, (t + 1) * per) }.filter { !$0.isEmpty }
        let sampleSize = x.count / n
        var results = [Result<Tensor, Error>?](repeating: nil, count: slices.count)
        results.withUnsafeMutableBufferPointer { out in
            let slots = DisjointSlots(base: out.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: slices.count) { i in
                let rows = slices[i]
                slots.base[i] = Result {
                    let part = try Tensor(shape: [rows.count] + x.shape.dropFirst(),
                                          storage: Array(x.storage[(rows.lowerBound * sampleSize)..<(rows.upperBound * sampleSize)]))
                    return try run(part)
                }
            }
        }
        var storage: [Float] = []
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

/// Result slots each written by exactly one concurrent iteration (disjoint indices, joined
/// before they are read), which is why sharing the pointer across threads is safe.
private struct DisjointSlots<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}
