import TensorCore

/// Gradient of 2-D max / average pooling (see `Engine.pool2D`): `x` N×C×H×W, `dy` N×C×OH×OW.
/// Max routes each `dy` to the first maximum of its window; average spreads it evenly over the
/// window's real (unpadded) cells.
public func pool2DBackward(x: Tensor, dy: Tensor, attributes a: Pool2DAttributes, max isMax: Bool) throws -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = (dy.shape[2], dy.shape[3])
    let (kh, kw, sh, sw, pt, pl) = (a.kernel.height, a.kernel.width, a.strides.height, a.strides.width, a.pads.top, a.pads.left)
    var dx = try Tensor(shape: x.shape)
    x.storage.withUnsafeBufferPointer { xp in
        dy.storage.withUnsafeBufferPointer { gp in
            dx.storage.withUnsafeMutableBufferPointer { dp in
                for plane in 0..<(n * c) {
                    let src = xp.baseAddress! + plane * h * w, dst = dp.baseAddress! + plane * h * w
                    let grad = gp.baseAddress! + plane * oh * ow
                    for y in 0..<oh {
                        let h0 = Swift.max(0, y * sh - pt), h1 = Swift.min(h, y * sh - pt + kh)
                        for xo in 0..<ow {
                            let w0 = Swift.max(0, xo * sw - pl), w1 = Swift.min(w, xo * sw - pl + kw)
                            let g = grad[y * ow + xo]
                            if isMax {
                                var best = h0 * w + w0, value = -Float.infinity
                                for ih in h0..<h1 { for iw in w0..<w1 where src[ih * w + iw] > value { value = src[ih * w + iw]; best = ih * w + iw } }
                                dst[best] += g
                            } else {
                                let share = g / Float((h1 - h0) * (w1 - w0))
                                for ih in h0..<h1 { for iw in w0..<w1 { dst[ih * w + iw] += share } }
                            }
                        }
                    }
                }
            }
        }
    }
    return dx
}

/// Gradient of global average / max pooling: `x` N×C×H×W, `dy` N×C×1×1; average spreads
/// `dy/(H·W)` over the plane, max routes `dy` to the plane's first maximum.
public func globalPoolBackward(x: Tensor, dy: Tensor, max isMax: Bool) throws -> Tensor {
    let (n, c) = (x.shape[0], x.shape[1])
    let plane = x.count / Swift.max(1, n * c)
    var dx = try Tensor(shape: x.shape)
    x.storage.withUnsafeBufferPointer { xp in
        dx.storage.withUnsafeMutableBufferPointer { dp in
            for i in 0..<(n * c) {
                let g = dy.storage[i]
                if isMax {
                    var best = 0
                    for k in 1..<Swift.max(1, plane) where xp[i * plane + k] > xp[i * plane + best] { best = k }
                    dp[i * plane + best] = g
                } else {
                    let share = g / Float(plane)
                    for k in 0..<plane { dp[i * plane + k] = share }
                }
            }
        }
    }
    return dx
}
