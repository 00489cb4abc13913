import TensorCore

extension MatMul: Differentiable {
    /// Per leading index: `dA = dY·Bᵀ`, `dB = Aᵀ·dY`.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let a = try s.value(0), b = try s.value(1), dy = try s.dy
        let (m, k, p) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        var da = try Tensor(shape: a.shape), db = try Tensor(shape: b.shape)
        let slices = a.count / max(1, m * k)
        a.storage.withUnsafeBufferPointer { ap in
            b.storage.withUnsafeBufferPointer { bp in
                dy.storage.withUnsafeBufferPointer { gp in
                    da.storage.withUnsafeMutableBufferPointer { dap in
                        db.storage.withUnsafeMutableBufferPointer { dbp in
                            for i in 0..<slices {
                                let g = gp.baseAddress! + i * m * p
                                GEMM.sgemm(transB: true, m: m, n: k, k: p, a: g, lda: p, b: bp.baseAddress! + i * k * p, ldb: p, c: dap.baseAddress! + i * m * k, ldc: k)
                                GEMM.sgemm(transA: true, m: k, n: p, k: m, a: ap.baseAddress! + i * m * k, lda: k, b: g, ldb: p, c: dbp.baseAddress! + i * k * p, ldc: p)
                            }
                        }
                    }
                }
            }
        }
        return [da, db]
    }
}
