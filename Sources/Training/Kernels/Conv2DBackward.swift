import Engine
import TensorCore

/// Gradients of a grouped 2-D convolution (see `Engine.conv2D`; depthwise is `group == C`):
/// `x` N×C×H×W, `w` O×(C/g)×kh×kw (OIHW), `dy` N×O×OH×OW. Per image and group, with
/// `cols = im2col(x)` ((C/g·kh·kw)×(OH·OW)): `dw_g += dy_g · colsᵀ`, `dcols = w_gᵀ · dy_g`,
/// `dx += col2im(dcols)`; `db[o] = Σ dy[·, o, ·, ·]`.
public func conv2DBackward(x: Tensor, weights w: Tensor, dy: Tensor, attributes a: Conv2DAttributes) throws
    -> (dx: Tensor, dw: Tensor, db: Tensor)
{
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = w.shape[0], cg = c / a.group, og = o / a.group
    let g = ConvGeometry(height: h, width: wd, attributes: a)
    let p = g.outPlane, rows = cg * g.kernelH * g.kernelW
    var dx = try Tensor(shape: x.shape), dw = try Tensor(shape: w.shape)
    var cols = [Float](repeating: 0, count: rows * p), dcols = [Float](repeating: 0, count: rows * p)
    x.storage.withUnsafeBufferPointer { xp in
        w.storage.withUnsafeBufferPointer { wp in
            dy.storage.withUnsafeBufferPointer { gp in
                dx.storage.withUnsafeMutableBufferPointer { dxp in
                    dw.storage.withUnsafeMutableBufferPointer { dwp in
                        cols.withUnsafeMutableBufferPointer { colp in
                            dcols.withUnsafeMutableBufferPointer { dcolp in
                                for image in 0..<n {
                                    for group in 0..<a.group {
                                        let xImage = xp.baseAddress! + (image * c + group * cg) * h * wd
                                        let dyGroup = gp.baseAddress! + (image * o + group * og) * p
                                        let wGroup = wp.baseAddress! + group * og * rows
                                        im2col(xImage, channels: cg, geometry: g, into: colp.baseAddress!, rowStride: g.outPlane)
                                        // dw_g[og×rows] += dy_g[og×P] · colsᵀ (cols stored rows×P)
                                        GEMM.sgemm(
                                            transB: true, m: og, n: rows, k: p, a: dyGroup, lda: p,
                                            b: colp.baseAddress!, ldb: p, beta: 1,
                                            c: dwp.baseAddress! + group * og * rows, ldc: rows)
                                        // dcols[rows×P] = w_gᵀ (stored og×rows) · dy_g[og×P]
                                        GEMM.sgemm(
                                            transA: true, m: rows, n: p, k: og, a: wGroup, lda: rows,
                                            b: dyGroup, ldb: p, c: dcolp.baseAddress!, ldc: p)
                                        col2imAccumulate(
                                            dcolp.baseAddress!, channels: cg, g,
                                            into: dxp.baseAddress! + (image * c + group * cg) * h * wd)
                                    }
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

/// `Σ dy[n, o, …]` over every axis but 1: the bias gradient of an N×O×… output.
func channelSums(_ dy: Tensor) throws -> Tensor {
    let n = dy.shape[0], o = dy.shape[1], p = dy.shape.dropFirst(2).reduce(1, *)
    var sums = try Tensor(shape: [o])
    dy.storage.withUnsafeBufferPointer { gp in
        sums.storage.withUnsafeMutableBufferPointer { sp in
            for image in 0..<n {
                for ch in 0..<o {
                    let plane = gp.baseAddress! + (image * o + ch) * p
                    var s: Float = 0
                    for i in 0..<p { s += plane[i] }
                    sp[ch] += s
                }
            }
        }
    }
    return sums
}
