import TensorCore

extension ResizeBilinear: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try resizeBilinear(try a.input(0), self)] }
}

/// Bilinear resize, NCHW: `x` N×C×H×W → N×C×OH×OW, each output the blend of the four source
/// cells `ResizeBilinear.taps` names along each axis (rows blended first, then columns).
public func resizeBilinear(_ x: Tensor, _ op: ResizeBilinear) throws -> Tensor {
    let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = (op.size.height, op.size.width)
    let rows = op.taps(axis: 0, input: h, output: oh), columns = op.taps(axis: 1, input: w, output: ow)
    var y = try Tensor(shape: [x.shape[0], x.shape[1], oh, ow])
    x.storage.withUnsafeBufferPointer { xp in
        y.storage.withUnsafeMutableBufferPointer { yp in
            for plane in 0..<planes {
                let src = xp.baseAddress! + plane * h * w, dst = yp.baseAddress! + plane * oh * ow
                for (r, row) in rows.enumerated() {
                    let top = src + row.lo * w, bottom = src + row.hi * w, line = dst + r * ow
                    for (c, column) in columns.enumerated() {
                        let upper = top[column.lo] + column.t * (top[column.hi] - top[column.lo])
                        let lower = bottom[column.lo] + column.t * (bottom[column.hi] - bottom[column.lo])
                        line[c] = upper + row.t * (lower - upper)
                    }
                }
            }
        }
    }
    return y
}
