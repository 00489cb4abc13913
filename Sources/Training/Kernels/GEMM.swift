import CBLAS

/// Row-major sgemm for the backward kernels (Engine's wrapper is internal to Engine).
enum GEMM {
    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, all row-major; `lda`/`ldb`/`ldc` are the
    /// distances in elements between consecutive rows *as stored* (for a transposed K×M `A`
    /// read as `Aᵀ`, `lda` is M).
    @inline(__always)
    static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
