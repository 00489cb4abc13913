import TensorCore

/// Transposed 2-D convolution, NCHW: per image and group, `cols = w_gᵀ · x_g` (sgemm) and
/// `col2im(cols)` added into the output (the input gradient of the adjoint convolution).
///
/// `x` is N×C×H×W, `w` is C×(O/g)×kh×kw (ONNX ConvTranspose layout, row-major), `b` is O or
/// nil; returns N×O×OH×OW with `out[n, o, ih·sh − pt + i·dh, iw·sw − pl + j·dw] += w[c, o, i, j] · x[n, c, ih, iw]`.
public func convTranspose2D(_ x: Tensor, weights w: Tensor, bias b: Tensor?, attributes a: ConvTranspose2D) throws -> Tensor {
    let shapes = try a.outputShapes([x.shape, w.shape] + (b.map { [$0.shape] } ?? []), ShapeCheck(node: "convTranspose2D", op: a.name))
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = shapes[0][1], cg = c / a.group, og = o / a.group
    let g = ConvGeometry(height: shapes[0][2], width: shapes[0][3], attributes: a.adjointConvolution)
    precondition(g.outHeight == h && g.outWidth == wd, "adjoint geometry")
    let rows = og * a.kernel.height * a.kernel.width, p = h * wd
    var y = try Tensor(shape: shapes[0])
    var cols = [Float](repeating: 0, count: rows * p)
    x.storage.withUnsafeBufferPointer { xp in
        w.storage.withUnsafeBufferPointer { wp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                cols.withUnsafeMutableBufferPointer { colp in
                    for image in 0..<n {
                        for group in 0..<a.group {
                            // cols[rows×P] = w_gᵀ (stored cg×rows) · x_g[cg×P]
                            BLAS.sgemm(
                                transA: true, m: rows, n: p, k: cg, a: wp.baseAddress! + group * cg * rows, lda: rows,
                                b: xp.baseAddress! + (image * c + group * cg) * p, ldb: p, c: colp.baseAddress!, ldc: p)
                            col2imAccumulate(
                                colp.baseAddress!, channels: og, g,
                                into: yp.baseAddress! + (image * o + group * og) * g.height * g.width)
                        }
                    }
                }
            }
        }
    }
    if b != nil {
        let (n, o, count) = (y.shape[0], y.shape[1], y.count)
        y.storage.withUnsafeMutableBufferPointer {
            applyConvEpilogue($0.baseAddress!, images: 0..<n, channels: o, plane: count / max(1, n * o), bias: b, epilogue: .none)
        }
    }
    return y
}
