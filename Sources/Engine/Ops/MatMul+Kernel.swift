import TensorCore

extension MatMul: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try matMul(try a.input(0), try a.input(1))] }
}

/// Batched product over the last two axes: `a` S×M×K and `b` S×K×P (S all leading axes,
/// row-major) → S×M×P, one sgemm per leading index.
public func matMul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    let (m, k, p) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
    let slices = a.count / max(1, m * k)
    var y = try Tensor(uninitializedShape: Array(a.shape.dropLast()) + [p])
    a.storage.withUnsafeBufferPointer { ap in
        b.storage.withUnsafeBufferPointer { bp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                for s in 0..<slices {
                    BLAS.sgemm(
                        m: m, n: p, k: k, a: ap.baseAddress! + s * m * k, lda: k, b: bp.baseAddress! + s * k * p, ldb: p, c: yp.baseAddress! + s * m * p, ldc: p)
                }
            }
        }
    }
    return y
}
