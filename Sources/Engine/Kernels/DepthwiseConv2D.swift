import TensorCore

/// Depthwise 2-D convolution, NCHW, direct loops (no GEMM: each filter sees one channel).
///
/// `x` is N×C×H×W, `w` is (C·m)×1×kh×kw for depth multiplier m, `b` is C·m or nil; output
/// channel `c·m + k` convolves input channel `c` with filter `c·m + k`. Returns N×(C·m)×OH×OW.
public func depthwiseConv2D(_ x: Tensor, weights w: Tensor, bias b: Tensor?, attributes a: Conv2DAttributes) throws -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = w.shape[0], multiplier = o / c
    let g = ConvGeometry(height: h, width: wd, attributes: a)
    var out = try Tensor(shape: [n, o, g.outHeight, g.outWidth])
    let p = g.outHeight * g.outWidth, kk = g.kernelH * g.kernelW
    x.storage.withUnsafeBufferPointer { xp in
        w.storage.withUnsafeBufferPointer { wp in
            out.storage.withUnsafeMutableBufferPointer { op in
                for img in 0..<n {
                    for ch in 0..<c {
                        let plane = xp.baseAddress! + (img * c + ch) * h * wd
                        for k in 0..<multiplier {
                            let oc = ch * multiplier + k
                            let dst = op.baseAddress! + (img * o + oc) * p
                            let filter = wp.baseAddress! + oc * kk
                            let bias = b?.storage[oc] ?? 0
                            dst.update(repeating: bias, count: p)
                            for i in 0..<g.kernelH {
                                let rowOffset = i * g.dilationH
                                for j in 0..<g.kernelW {
                                    let colOffset = j * g.dilationW
                                    let weight = filter[i * g.kernelW + j]
                                    let columns = g.validColumns(offset: colOffset)
                                    for oh in g.validRows(offset: rowOffset) {
                                        let src = plane + (oh * g.strideH - g.padTop + rowOffset) * wd - g.padLeft + colOffset
                                        let line = dst + oh * g.outWidth
                                        if g.strideW == 1 {
                                            for ow in columns { line[ow] += weight * src[ow] }
                                        } else {
                                            for ow in columns { line[ow] += weight * src[ow * g.strideW] }
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
