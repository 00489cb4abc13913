import TensorCore

/// Matrix product on the last axis via sgemm (sgemv for a single row): `x` is R×…×K (any leading dims, R rows in all),
/// `w` is K×M row-major, `b` is M or nil; returns …×M with `y[r, m] = b[m] + Σ_k x[r, k] · w[k, m]`.
public func linear(_ x: Tensor, weights w: Tensor, bias b: Tensor?) throws -> Tensor {
    let k = w.shape[0], m = w.shape[1]
    let rows = x.count / max(1, k)
    var out = try Tensor(uninitializedShape: Array(x.shape.dropLast()) + [m])
    if let b {
        out.storage.withUnsafeMutableBufferPointer { op in
            b.storage.withUnsafeBufferPointer { bp in
                for r in 0..<rows { (op.baseAddress! + r * m).update(from: bp.baseAddress!, count: m) }
            }
        }
    }
    guard rows > 0 else { return out }
    x.storage.withUnsafeBufferPointer { xp in
        w.storage.withUnsafeBufferPointer { wp in
            out.storage.withUnsafeMutableBufferPointer { op in
                if rows == 1 {
                    BLAS.sgemvTransposed(
                        k: k, n: m, a: wp.baseAddress!, lda: m, x: xp.baseAddress!,
                        beta: b == nil ? 0 : 1, y: op.baseAddress!)
                    return
                }
                BLAS.sgemm(
                    m: rows, n: m, k: k, a: xp.baseAddress!, lda: k, b: wp.baseAddress!, ldb: m,
                    beta: b == nil ? 0 : 1, c: op.baseAddress!, ldc: m)
            }
        }
    }
    return out
}
