import TensorCore

/// Backward kernels written as their definitions in plain loops with Double accumulation: slow
/// and obviously right. Tests check the sgemm kernels against these.
public enum NaiveBackward {
    /// Gradients of `y[r, m] = b[m] + Σ_k x[r, k]·w[k, m]`: `dx[r, k] = Σ_m dy[r, m]·w[k, m]`,
    /// `dw[k, m] = Σ_r x[r, k]·dy[r, m]`, `db[m] = Σ_r dy[r, m]`.
    public static func linear(x: Tensor, weights w: Tensor, dy: Tensor) throws -> (dx: Tensor, dw: Tensor, db: Tensor) {
        let k = w.shape[0], m = w.shape[1], rows = x.count / k
        var dx = try Tensor(shape: x.shape), dw = try Tensor(shape: w.shape), db = try Tensor(shape: [m])
        for r in 0..<rows {
            for i in 0..<k {
                var acc = 0.0
                for j in 0..<m { acc += Double(dy.storage[r * m + j]) * Double(w.storage[i * m + j]) }
                dx.storage[r * k + i] = Float(acc)
            }
        }
        for i in 0..<k {
            for j in 0..<m {
                var acc = 0.0
                for r in 0..<rows { acc += Double(x.storage[r * k + i]) * Double(dy.storage[r * m + j]) }
                dw.storage[i * m + j] = Float(acc)
            }
        }
        for j in 0..<m { db.storage[j] = Float((0..<rows).reduce(0.0) { $0 + Double(dy.storage[$1 * m + j]) }) }
        return (dx, dw, db)
    }

    /// Gradients of a grouped convolution by scattering every output gradient over the inputs
    /// and weights that produced it (NCHW input, OIHW weights).
    public static func conv2D(x: Tensor, weights w: Tensor, dy: Tensor, attributes a: Conv2DAttributes) throws -> (dx: Tensor, dw: Tensor, db: Tensor) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let o = w.shape[0], cg = c / a.group, og = o / a.group
        let (oh, ow) = (dy.shape[2], dy.shape[3])
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count), db = [Double](repeating: 0, count: o)
        for img in 0..<n {
            for oc in 0..<o {
                let g = oc / og
                for y in 0..<oh {
                    for xo in 0..<ow {
                        let grad = Double(dy.storage[((img * o + oc) * oh + y) * ow + xo])
                        db[oc] += grad
                        for ci in 0..<cg {
                            for i in 0..<a.kernel.height {
                                for j in 0..<a.kernel.width {
                                    let ih = y * a.strides.height - a.pads.top + i * a.dilations.height
                                    let iw = xo * a.strides.width - a.pads.left + j * a.dilations.width
                                    guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                                    let xi = ((img * c + g * cg + ci) * h + ih) * wd + iw
                                    let wi = ((oc * cg + ci) * a.kernel.height + i) * a.kernel.width + j
                                    dx[xi] += grad * Double(w.storage[wi])
                                    dw[wi] += grad * Double(x.storage[xi])
                                }
                            }
                        }
                    }
                }
            }
        }
        return (
            try Tensor(shape: x.shape, storage: dx.map(Float.init)), try Tensor(shape: w.shape, storage: dw.map(Float.init)),
            try Tensor(shape: [o], storage: db.map(Float.init))
        )
    }
}
