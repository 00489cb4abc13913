import Engine
import TensorCore

extension Tile: Differentiable {
    /// Each input element's gradient is the sum over its copies.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let shape = try s.value(0).shape
        let dy = try s.dy
        var dx = try Tensor(shape: shape)
        var strides = [Int](repeating: 1, count: shape.count)
        for a in shape.indices.dropLast().reversed() { strides[a] = strides[a + 1] * shape[a + 1] }
        let outShape = dy.shape
        var index = [Int](repeating: 0, count: outShape.count)
        dy.storage.withUnsafeBufferPointer { gp in
            dx.storage.withUnsafeMutableBufferPointer { dp in
                for i in gp.indices {
                    var o = 0
                    for a in index.indices { o += (index[a] % shape[a]) * strides[a] }
                    dp[o] += gp[i]
                    var a = outShape.count - 1
                    while a >= 0 {
                        index[a] += 1
                        if index[a] < outShape[a] { break }
                        index[a] = 0
                        a -= 1
                    }
                }
            }
        }
        return [dx]
    }
}
