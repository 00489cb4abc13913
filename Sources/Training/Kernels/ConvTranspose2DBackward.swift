import Engine
import TensorCore

/// Gradients of a transposed 2-D convolution (see `Engine.convTranspose2D`): `x` N×C×H×W,
/// `w` C×(O/g)×kh×kw, `dy` N×O×OH×OW. Per image and group, with `cols = im2col(dy_g)`
/// ((O/g·kh·kw)×(H·W), the adjoint convolution's unfolding): `dx_g = w_g · cols`,
/// `dw_g += x_g · colsᵀ`; `db[o] = Σ dy[·, o, ·, ·]`.
public func convTranspose2DBackward(x: Tensor, weights w: Tensor, dy: Tensor, attributes a: ConvTranspose2D) throws
    -> (dx: Tensor, dw: Tensor, db: Tensor)
{
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = dy.shape[1], cg = c / a.group, og = o / a.group
    let g = ConvGeometry(height: dy.shape[2], width: dy.shape[3], attributes: a.adjointConvolution)
    let p = h * wd, rows = og * a.kernel.height * a.kernel.width
    var dx = try Tensor(shape: x.shape), dw = try Tensor(shape: w.shape)
    var cols = [Float](repeating: 0, count: rows * p)
    x.storage.withUnsafeBufferPointer { xp in
        w.storage.withUnsafeBufferPointer { wp in
            dy.storage.withUnsafeBufferPointer { gp in
                dx.storage.withUnsafeMutableBufferPointer { dxp in
                    dw.storage.withUnsafeMutableBufferPointer { dwp in
                        cols.withUnsafeMutableBufferPointer { colp in
                            for image in 0..<n {
                                for group in 0..<a.group {
                                    im2col(
                                        gp.baseAddress! + (image * o + group * og) * g.height * g.width, channels: og, geometry: g,
                                        into: colp.baseAddress!, rowStride: p)
                                    let xGroup = xp.baseAddress! + (image * c + group * cg) * p
                                    // dx_g[cg×P] = w_g[cg×rows] · cols[rows×P]
                                    GEMM.sgemm(
                                        m: cg, n: p, k: rows, a: wp.baseAddress! + group * cg * rows, lda: rows,
                                        b: colp.baseAddress!, ldb: p, c: dxp.baseAddress! + (image * c + group * cg) * p, ldc: p)
                                    // dw_g[cg×rows] += x_g[cg×P] · colsᵀ
                                    GEMM.sgemm(
                                        transB: true, m: cg, n: rows, k: p, a: xGroup, lda: p, b: colp.baseAddress!, ldb: p,
                                        beta: 1, c: dwp.baseAddress! + group * cg * rows, ldc: rows)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return (dx, dw, try channelSums(dy))
}
