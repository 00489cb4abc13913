import TensorCore

/// Gradients of `y = x·w + b` (see `Engine.linear`): `x` is R×…×K (R rows in all), `w` K×M
/// row-major, `dy` …×M. Returns `dx = dy·wᵀ` (x's shape), `dw = xᵀ·dy` (K×M) and `db = Σ_r dy`
/// (M), all through sgemm.
public func linearBackward(x: Tensor, weights w: Tensor, dy: Tensor) throws -> (dx: Tensor, dw: Tensor, db: Tensor) {
    let k = w.shape[0], m = w.shape[1]
    let rows = x.count / max(1, k)
    var dx = try Tensor(shape: x.shape), dw = try Tensor(shape: w.shape), db = try Tensor(shape: [m])
    x.storage.withUnsafeBufferPointer { xp in
        w.storage.withUnsafeBufferPointer { wp in
            dy.storage.withUnsafeBufferPointer { gp in
                dx.storage.withUnsafeMutableBufferPointer { dxp in
                    // dx[R×K] = dy[R×M] · wᵀ (w stored K×M, so ldb = M)
                    GEMM.sgemm(
                        transB: true, m: rows, n: k, k: m, a: gp.baseAddress!, lda: m,
                        b: wp.baseAddress!, ldb: m, c: dxp.baseAddress!, ldc: k)
                }
                dw.storage.withUnsafeMutableBufferPointer { dwp in
                    // dw[K×M] = xᵀ (x stored R×K, so lda = K) · dy[R×M]
                    GEMM.sgemm(
                        transA: true, m: k, n: m, k: rows, a: xp.baseAddress!, lda: k,
                        b: gp.baseAddress!, ldb: m, c: dwp.baseAddress!, ldc: m)
                }
                db.storage.withUnsafeMutableBufferPointer { dbp in
                    for r in 0..<rows {
                        let row = gp.baseAddress! + r * m
                        for j in 0..<m { dbp[j] += row[j] }
                    }
                }
            }
        }
    }
    return (dx, dw, db)
}
