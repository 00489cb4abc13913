import TensorCore

/// Depthwise 2-D convolution, NCHW, direct loops (no GEMM: each filter sees one channel).
///
/// `x` is N×C×H×W, `w` is (C·m)×1×kh×kw for depth multiplier m, `b` is C·m or nil; output
/// channel `c·m + k` convolves input channel `c` with filter `c·m + k`. Returns N×(C·m)×OH×OW.
/// Each input plane is first copied into a zero-padded plane, so the inner loops run over
/// whole output rows without bounds checks; 3×3 filters use an unrolled 9-tap loop. The
/// epilogue (residual, activation) runs on each output plane as soon as it is computed.
public func depthwiseConv2D(
    _ x: Tensor, weights w: Tensor, bias b: Tensor?, attributes a: Conv2DAttributes, epilogue: ConvEpilogue = .none
) throws -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = w.shape[0], multiplier = o / c
    let g = ConvGeometry(height: h, width: wd, attributes: a)
    var out = try Tensor(uninitializedShape: [n, o, g.outHeight, g.outWidth])
    let p = g.outHeight * g.outWidth, kk = g.kernelH * g.kernelW
    // The padded plane covers every input cell any window touches (and at least the image).
    let paddedH = max(h + g.padTop, (g.outHeight - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1)
    let paddedW = max(wd + g.padLeft, (g.outWidth - 1) * g.strideW + (g.kernelW - 1) * g.dilationW + 1)
    var padded = [Float](repeating: 0, count: paddedH * paddedW)
    let bias = b?.storage ?? [Float](repeating: 0, count: o)
    x.storage.withUnsafeBufferPointer { xp in
        w.storage.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                padded.withUnsafeMutableBufferPointer { pp in
                    out.storage.withUnsafeMutableBufferPointer { op in
                        withOptionalPointer(epilogue.residual) { residual in
                            for img in 0..<n {
                                for ch in 0..<c {
                                    let plane = xp.baseAddress! + (img * c + ch) * h * wd
                                    for row in 0..<h {
                                        (pp.baseAddress! + (row + g.padTop) * paddedW + g.padLeft).update(from: plane + row * wd, count: wd)
                                    }
                                    for k in 0..<multiplier {
                                        let oc = ch * multiplier + k
                                        depthwisePlane(
                                            pp.baseAddress!, paddedWidth: paddedW, filter: wp.baseAddress! + oc * kk,
                                            bias: bp[oc], geometry: g, into: op.baseAddress! + (img * o + oc) * p)
                                        if residual != nil || epilogue.activation != nil {
                                            let offset = (img * o + oc) * p
                                            applyConvEpilogue(
                                                op.baseAddress! + offset, count: p, bias: 0, residual: residual.map { $0 + offset },
                                                activation: epilogue.activation)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}

/// One output plane (OH×OW) from one zero-padded input plane (row stride `paddedWidth`).
@inline(__always)
private func depthwisePlane(
    _ src: UnsafePointer<Float>, paddedWidth pw: Int, filter f: UnsafePointer<Float>,
    bias: Float, geometry g: ConvGeometry, into dst: UnsafeMutablePointer<Float>
) {
    let (sh, sw, dh, dw) = (g.strideH, g.strideW, g.dilationH, g.dilationW)
    if g.kernelH == 3 && g.kernelW == 3 {
        let (w0, w1, w2, w3, w4, w5, w6, w7, w8) = (f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8])
        for oh in 0..<g.outHeight {
            let r0 = src + oh * sh * pw, r1 = r0 + dh * pw, r2 = r1 + dh * pw
            let line = dst + oh * g.outWidth
            if sw == 1 && dw == 1 {
                for ow in 0..<g.outWidth {
                    var acc = bias
                    acc += w0 * r0[ow] + w1 * r0[ow + 1] + w2 * r0[ow + 2]
                    acc += w3 * r1[ow] + w4 * r1[ow + 1] + w5 * r1[ow + 2]
                    acc += w6 * r2[ow] + w7 * r2[ow + 1] + w8 * r2[ow + 2]
                    line[ow] = acc
                }
            } else {
                for ow in 0..<g.outWidth {
                    let c0 = ow * sw, c1 = c0 + dw, c2 = c1 + dw
                    var acc = bias
                    acc += w0 * r0[c0] + w1 * r0[c1] + w2 * r0[c2]
                    acc += w3 * r1[c0] + w4 * r1[c1] + w5 * r1[c2]
                    acc += w6 * r2[c0] + w7 * r2[c1] + w8 * r2[c2]
                    line[ow] = acc
                }
            }
        }
        return
    }
    for oh in 0..<g.outHeight {
        let line = dst + oh * g.outWidth
        line.update(repeating: bias, count: g.outWidth)
        for i in 0..<g.kernelH {
            let rowStart = src + (oh * sh + i * dh) * pw
            for j in 0..<g.kernelW {
                let weight = f[i * g.kernelW + j], start = rowStart + j * dw
                for ow in 0..<g.outWidth { line[ow] += weight * start[ow * sw] }
            }
        }
    }
}
