import TensorCore

/// 2-D max or average pooling, NCHW: `x` is N×C×H×W, returns N×C×OH×OW. Padded cells never
/// count: max ignores them, average divides by the number of real cells in the window.
public func pool2D(_ x: Tensor, attributes a: Pool2DAttributes, max isMax: Bool) throws -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let g = ConvGeometry(height: h, width: w, kernel: a.kernel, strides: a.strides, pads: a.pads)
    var out = try Tensor(uninitializedShape: [n, c, g.outHeight, g.outWidth])
    if a.kernel == Size2D(2, 2) && a.strides == Size2D(2, 2) && a.pads == .zero {
        pool2x2(x, into: &out, max: isMax)
        return out
    }
    x.storage.withUnsafeBufferPointer { xp in
        out.storage.withUnsafeMutableBufferPointer { op in
            for plane in 0..<(n * c) {
                let src = xp.baseAddress! + plane * h * w
                let dst = op.baseAddress! + plane * g.outHeight * g.outWidth
                for oh in 0..<g.outHeight {
                    let h0 = max(0, oh * g.strideH - g.padTop), h1 = min(h, oh * g.strideH - g.padTop + g.kernelH)
                    for ow in 0..<g.outWidth {
                        let w0 = max(0, ow * g.strideW - g.padLeft), w1 = min(w, ow * g.strideW - g.padLeft + g.kernelW)
                        var acc: Float = isMax ? -.infinity : 0
                        for ih in h0..<h1 {
                            let line = src + ih * w
                            if isMax {
                                for iw in w0..<w1 { acc = Swift.max(acc, line[iw]) }
                            } else {
                                for iw in w0..<w1 { acc += line[iw] }
                            }
                        }
                        dst[oh * g.outWidth + ow] = isMax ? acc : acc / Float((h1 - h0) * (w1 - w0))
                    }
                }
            }
        }
    }
    return out
}

/// The common 2×2, stride-2, unpadded window (every window inside the image): N×C×H×W →
/// N×C×⌊H/2⌋×⌊W/2⌋ without per-window bounds.
private func pool2x2(_ x: Tensor, into out: inout Tensor, max isMax: Bool) {
    let (h, w) = (x.shape[2], x.shape[3])
    let (oh, ow) = (out.shape[2], out.shape[3])
    let planes = x.shape[0] * x.shape[1]
    x.storage.withUnsafeBufferPointer { xp in
        out.storage.withUnsafeMutableBufferPointer { op in
            for plane in 0..<planes {
                let src = xp.baseAddress! + plane * h * w, dst = op.baseAddress! + plane * oh * ow
                for y in 0..<oh {
                    let r0 = src + 2 * y * w, r1 = r0 + w, line = dst + y * ow
                    if isMax {
                        for i in 0..<ow { line[i] = Swift.max(Swift.max(r0[2 * i], r0[2 * i + 1]), Swift.max(r1[2 * i], r1[2 * i + 1])) }
                    } else {
                        for i in 0..<ow { line[i] = (r0[2 * i] + r0[2 * i + 1] + r1[2 * i] + r1[2 * i + 1]) * 0.25 }
                    }
                }
            }
        }
    }
}

/// Global average or max over H×W: `x` is N×C×H×W, returns N×C×1×1.
public func globalPool(_ x: Tensor, max isMax: Bool) throws -> Tensor {
    let (n, c) = (x.shape[0], x.shape[1])
    let plane = x.count / max(1, n * c)
    var out = try Tensor(uninitializedShape: [n, c, 1, 1])
    x.storage.withUnsafeBufferPointer { xp in
        out.storage.withUnsafeMutableBufferPointer { op in
            for i in 0..<(n * c) {
                let src = xp.baseAddress! + i * plane
                if isMax {
                    var m = -Float.infinity
                    for k in 0..<plane { m = Swift.max(m, src[k]) }
                    op[i] = m
                } else {
                    var s: Float = 0
                    for k in 0..<plane { s += src[k] }
                    op[i] = s / Float(plane)
                }
            }
        }
    }
    return out
}
