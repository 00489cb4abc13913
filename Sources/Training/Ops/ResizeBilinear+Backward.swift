import TensorCore

extension ResizeBilinear: Differentiable {
    /// Each output's gradient goes back to its four source cells with their blend weights.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let shape = try s.value(0).shape, dy = try s.dy
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let rows = taps(axis: 0, input: h, output: size.height), columns = taps(axis: 1, input: w, output: size.width)
        var dx = try Tensor(shape: shape)
        dy.storage.withUnsafeBufferPointer { gp in
            dx.storage.withUnsafeMutableBufferPointer { dp in
                for plane in 0..<planes {
                    let g = gp.baseAddress! + plane * size.height * size.width, d = dp.baseAddress! + plane * h * w
                    for (r, row) in rows.enumerated() {
                        for (c, column) in columns.enumerated() {
                            let v = g[r * size.width + c]
                            let upper = v * (1 - row.t), lower = v * row.t
                            d[row.lo * w + column.lo] += upper * (1 - column.t)
                            d[row.lo * w + column.hi] += upper * column.t
                            d[row.hi * w + column.lo] += lower * (1 - column.t)
                            d[row.hi * w + column.hi] += lower * column.t
                        }
                    }
                }
            }
        }
        return [dx]
    }
}
