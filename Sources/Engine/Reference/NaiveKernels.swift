import TensorCore

/// Reference kernels: the definitions written as plain loops, slow and obviously right.
/// Tests check every fast kernel against these.
public enum NaiveKernels {
    /// 2-D convolution by its definition (NCHW input, OIHW weights, any group), Double accumulation.
    public static func conv2D(_ x: Tensor, weights w: Tensor, bias b: Tensor?, attributes a: Conv2DAttributes) throws -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let o = w.shape[0], cg = c / a.group, og = o / a.group
        let oh = (h + a.pads.top + a.pads.bottom - (a.kernel.height - 1) * a.dilations.height - 1) / a.strides.height + 1
        let ow = (wd + a.pads.left + a.pads.right - (a.kernel.width - 1) * a.dilations.width - 1) / a.strides.width + 1
        var out = try Tensor(shape: [n, o, oh, ow])
        for img in 0..<n {
            for oc in 0..<o {
                let g = oc / og
                for y in 0..<oh {
                    for xo in 0..<ow {
                        var acc = Double(b?.storage[oc] ?? 0)
                        for ci in 0..<cg {
                            for i in 0..<a.kernel.height {
                                for j in 0..<a.kernel.width {
                                    let ih = y * a.strides.height - a.pads.top + i * a.dilations.height
                                    let iw = xo * a.strides.width - a.pads.left + j * a.dilations.width
                                    guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                                    let xv = x.storage[((img * c + g * cg + ci) * h + ih) * wd + iw]
                                    let wv = w.storage[((oc * cg + ci) * a.kernel.height + i) * a.kernel.width + j]
                                    acc += Double(xv) * Double(wv)
                                }
                            }
                        }
                        out.storage[((img * o + oc) * oh + y) * ow + xo] = Float(acc)
                    }
                }
            }
        }
        return out
    }

    /// `y[r, m] = b[m] + Σ_k x[r, k] · w[k, m]` by its definition, Double accumulation.
    public static func linear(_ x: Tensor, weights w: Tensor, bias b: Tensor?) throws -> Tensor {
        let k = w.shape[0], m = w.shape[1], rows = x.count / k
        var out = try Tensor(shape: Array(x.shape.dropLast()) + [m])
        for r in 0..<rows {
            for j in 0..<m {
                var acc = Double(b?.storage[j] ?? 0)
                for i in 0..<k { acc += Double(x.storage[r * k + i]) * Double(w.storage[i * m + j]) }
                out.storage[r * m + j] = Float(acc)
            }
        }
        return out
    }

    /// 2-D pooling by its definition; padded cells excluded.
    public static func pool2D(_ x: Tensor, attributes a: Pool2DAttributes, max isMax: Bool) throws -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + a.pads.top + a.pads.bottom - a.kernel.height) / a.strides.height + 1
        let ow = (w + a.pads.left + a.pads.right - a.kernel.width) / a.strides.width + 1
        var out = try Tensor(shape: [n, c, oh, ow])
        for p in 0..<(n * c) {
            for y in 0..<oh {
                for xo in 0..<ow {
                    var values: [Float] = []
                    for i in 0..<a.kernel.height {
                        for j in 0..<a.kernel.width {
                            let ih = y * a.strides.height - a.pads.top + i, iw = xo * a.strides.width - a.pads.left + j
                            if ih >= 0, ih < h, iw >= 0, iw < w { values.append(x.storage[(p * h + ih) * w + iw]) }
                        }
                    }
                    out.storage[(p * oh + y) * ow + xo] = isMax ? values.max()! : values.reduce(0, +) / Float(values.count)
                }
            }
        }
        return out
    }
}
