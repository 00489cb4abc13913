import TensorCore

extension Tile: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        let x = try a.input(0)
        var shape = x.shape
        for i in 1..<shape.count { shape[i] *= repeats[i] }
        var y = try Tensor(shape: shape)
        tile(x, into: &y)
        return [y]
    }
}

/// `y[i₀, i₁, …] = x[i₀ mod d₀, i₁ mod d₁, …]` for `x` of shape `d` and `y` a whole number of
/// copies of it along each axis (row-major, any rank); one pass over `y` with a running index.
func tile(_ x: Tensor, into y: inout Tensor) {
    let inShape = x.shape, outShape = y.shape
    var strides = [Int](repeating: 1, count: inShape.count)
    for a in inShape.indices.dropLast().reversed() { strides[a] = strides[a + 1] * inShape[a + 1] }
    var index = [Int](repeating: 0, count: outShape.count)
    var source = [Int](repeating: 0, count: outShape.count)
    x.storage.withUnsafeBufferPointer { xp in
        y.storage.withUnsafeMutableBufferPointer { yp in
            var o = 0
            for i in yp.indices {
                yp[i] = xp[o]
                var a = outShape.count - 1
                while a >= 0 {
                    index[a] += 1
                    source[a] += 1
                    o += strides[a]
                    if source[a] == inShape[a] {
                        source[a] = 0
                        o -= strides[a] * inShape[a]
                    }
                    if index[a] < outShape[a] { break }
                    index[a] = 0
                    o -= strides[a] * source[a]
                    source[a] = 0
                    a -= 1
                }
            }
        }
    }
}
