import TensorCore

/// Memory the im2col buffer may use (floats); images are batched into one GEMM up to this.
let im2colBudget = 8 << 20

/// Convolutions batch images side by side (im2col of several images, then one wider GEMM)
/// only on feature maps of fewer cells than this and with at least `heavyGEMM` weights
/// (O × C·kh·kw): elsewhere the copies cost more than narrow per-image GEMMs lose (measured,
/// docs/benchmarks.md "When batching images pays").
let smallFeatureMap = 64
/// Weights (O × C·kh·kw) from which a convolution on a narrow map pays for batching its images.
let heavyGEMM = 1 << 20

/// 2-D convolution, NCHW, via im2col + sgemm (1×1 stride-1 convolutions skip im2col;
/// depthwise convolutions use `depthwiseConv2D`).
///
/// `x` is N×C×H×W, `w` is O×(C/g)×kh×kw (OIHW, row-major), `b` is O or nil; returns
/// N×O×OH×OW with `out[n,o,oh,ow] = b[o] + Σ w[o,c,i,j] · x[n, g·C/g + c, oh·sh − pt + i·dh, ow·sw − pl + j·dw]`,
/// then `epilogue` (residual, activation) applied to each image's output right after its GEMM.
public func conv2D(
    _ x: Tensor, weights w: Tensor, bias b: Tensor?, attributes a: Conv2DAttributes, epilogue: ConvEpilogue = .none
) throws -> Tensor {
    try conv2D(x, weights: w, bias: b, attributes: a, epilogue: epilogue, imagesPerGEMM: nil)
}

/// `conv2D` with `imagesPerGEMM` images per im2col GEMM when given (tests of the batched path),
/// else as many as the rule above and the im2col budget allow.
func conv2D(
    _ x: Tensor, weights w: Tensor, bias b: Tensor?, attributes a: Conv2DAttributes, epilogue: ConvEpilogue, imagesPerGEMM: Int?
) throws -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = w.shape[0]
    if a.group == c && w.shape[1] == 1 && a.group > 1 {
        return try depthwiseConv2D(x, weights: w, bias: b, attributes: a, epilogue: epilogue)
    }
    let geometry = ConvGeometry(height: h, width: wd, attributes: a)
    var out = try Tensor(uninitializedShape: [n, o, geometry.outHeight, geometry.outWidth])
    let p = geometry.outHeight * geometry.outWidth
    let cg = c / a.group, og = o / a.group
    let rows = cg * a.kernel.height * a.kernel.width
    // Several images share one wider GEMM only on narrow maps with many weights; otherwise
    // each image is one GEMM, and 1×1 stride-1 convolutions read the image as its operand.
    let batchImages = n > 1 && a.group == 1 && (imagesPerGEMM.map { $0 > 1 } ?? (p < smallFeatureMap && rows * o >= heavyGEMM))
    let pointwise = a.kernel == .one && a.strides == .one && a.pads == .zero && a.group == 1 && !batchImages
    let imagesPerChunk = batchImages ? max(1, min(n, imagesPerGEMM ?? (im2colBudget / max(1, rows * p)))) : 1
    var cols = [Float](repeating: 0, count: pointwise ? 0 : rows * p * imagesPerChunk)
    var scratch = [Float](repeating: 0, count: imagesPerChunk > 1 ? o * p * imagesPerChunk : 0)

    x.storage.withUnsafeBufferPointer { xp in
        w.storage.withUnsafeBufferPointer { wp in
            out.storage.withUnsafeMutableBufferPointer { op in
                cols.withUnsafeMutableBufferPointer { colp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        var n0 = 0
                        while n0 < n {
                            let nb = min(imagesPerChunk, n - n0)
                            if pointwise {
                                BLAS.sgemm(
                                    m: o, n: p, k: c, a: wp.baseAddress!, lda: c,
                                    b: xp.baseAddress! + n0 * c * h * wd, ldb: p,
                                    c: op.baseAddress! + n0 * o * p, ldc: p)
                            } else if nb == 1 {
                                for g in 0..<a.group {
                                    im2col(
                                        xp.baseAddress! + (n0 * c + g * cg) * h * wd, channels: cg, geometry: geometry,
                                        into: colp.baseAddress!, rowStride: p)
                                    BLAS.sgemm(
                                        m: og, n: p, k: rows, a: wp.baseAddress! + g * og * rows, lda: rows,
                                        b: colp.baseAddress!, ldb: p,
                                        c: op.baseAddress! + (n0 * o + g * og) * p, ldc: p)
                                }
                            } else {
                                for i in 0..<nb {
                                    im2col(
                                        xp.baseAddress! + (n0 + i) * c * h * wd, channels: c, geometry: geometry,
                                        into: colp.baseAddress! + i * p, rowStride: nb * p)
                                }
                                BLAS.sgemm(
                                    m: o, n: nb * p, k: rows, a: wp.baseAddress!, lda: rows,
                                    b: colp.baseAddress!, ldb: nb * p, c: sp.baseAddress!, ldc: nb * p)
                                for i in 0..<nb {
                                    for oc in 0..<o {
                                        (op.baseAddress! + ((n0 + i) * o + oc) * p)
                                            .update(from: sp.baseAddress! + oc * nb * p + i * p, count: p)
                                    }
                                }
                            }
                            applyConvEpilogue(op.baseAddress!, images: n0..<(n0 + nb), channels: o, plane: p, bias: b, epilogue: epilogue)
                            n0 += nb
                        }
                    }
                }
            }
        }
    }
    return out
}

/// Adds the bias `b` (O or nil) to images `images` of the N×O×`plane` output at `out`, then
/// the epilogue's residual (same layout) and activation, one channel plane at a time.
func applyConvEpilogue(
    _ out: UnsafeMutablePointer<Float>, images: Range<Int>, channels o: Int, plane p: Int, bias b: Tensor?, epilogue: ConvEpilogue
) {
    guard b != nil || epilogue.residual != nil || epilogue.activation != nil else { return }
    withOptionalPointer(epilogue.residual) { residual in
        for image in images {
            for oc in 0..<o {
                let offset = (image * o + oc) * p
                applyConvEpilogue(
                    out + offset, count: p, bias: b?.storage[oc] ?? 0, residual: residual.map { $0 + offset }, activation: epilogue.activation)
            }
        }
    }
}

/// Calls `body` with a pointer to `t`'s floats, or nil when there is no tensor.
func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.storage.withUnsafeBufferPointer { body($0.baseAddress) }
}
