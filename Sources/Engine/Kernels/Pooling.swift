import TensorCore

/// 2-D max or average pooling, NCHW: `x` is N×C×H×W, returns N×C×OH×OW. Padded cells never
/// count: max ignores them, average divides by the number of real cells in the window.
public func pool2D(_ x: Tensor, attributes a: Pool2DAttributes, max isMax: Bool) throws -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let g = ConvGeometry(height: h, width: w, kernel: a.kernel, strides: a.strides, pads: a.pads)
    var out = try Tensor(uninitializedShape: [n, c, g.outHeight, g.outWidth])
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
