import TensorCore

extension ReduceMean: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        let x = try a.input(0)
        var y = try Tensor(shape: outputShape(x.shape))
        reduceMean(x, into: &y, axes: Set(axes))
        return [y]
    }
}

/// `y[o] = mean of x over the reduced axes`, x row-major of any rank, `y` holding one value per
/// combination of the kept axes (in order). One pass over `x` with a running multi-index.
func reduceMean(_ x: Tensor, into y: inout Tensor, axes: Set<Int>) {
    let shape = x.shape
    // Output stride of each input axis (0 on reduced axes).
    var strides = [Int](repeating: 0, count: shape.count)
    var s = 1
    for a in shape.indices.reversed() where !axes.contains(a) {
        strides[a] = s
        s *= shape[a]
    }
    let reduced = axes.reduce(1) { $0 * shape[$1] }
    var index = [Int](repeating: 0, count: shape.count)
    x.storage.withUnsafeBufferPointer { xp in
        y.storage.withUnsafeMutableBufferPointer { yp in
            for i in yp.indices { yp[i] = 0 }
            var o = 0
            for i in xp.indices {
                yp[o] += xp[i]
                var a = shape.count - 1
                while a >= 0 {
                    index[a] += 1
                    o += strides[a]
                    if index[a] < shape[a] { break }
                    o -= strides[a] * shape[a]
                    index[a] = 0
                    a -= 1
                }
            }
            let scale = 1 / Float(max(reduced, 1))
            for i in yp.indices { yp[i] *= scale }
        }
    }
}
