import CBLAS

/// Thin wrappers over OpenBLAS. All matrices are row-major; a leading dimension (`lda`,
/// `ldb`, `ldc`) is the distance in elements between the starts of two consecutive rows *as
/// stored* (for an untransposed M×K `A` that is ≥ K, not M).
public enum BLAS {
    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, where `op(A)` is m×k and `op(B)` is k×n.
    @inline(__always)
    static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y[n] = alpha · Aᵀ · x + beta · y` for a row-major k×n matrix `A` (leading dimension
    /// `lda` ≥ n): a vector times a matrix, without the packing sgemm does.
    @inline(__always)
    static func sgemvTransposed(
        k: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// Sets the number of threads OpenBLAS uses (the `OPENBLAS_NUM_THREADS` default otherwise).
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }

    /// Stops OpenBLAS's worker threads (its own fork-time shutdown; the next multi-threaded call
    /// starts them again). The workers started at load time spin in `sched_yield` for ~0.1 s
    /// before they sleep: a busy second core for the whole of a small run.
    public static func stopIdleWorkers() {
        _ = openblasThreadShutdown()
    }

    /// The CPU kernel family OpenBLAS selected (e.g. `Haswell`, `SkylakeX`).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The number of threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }
}

/// OpenBLAS's `blas_thread_shutdown_` (exported by libopenblas, not in its header; `int (void)`).
@_silgen_name("blas_thread_shutdown_")
private func openblasThreadShutdown() -> Int32
