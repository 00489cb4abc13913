import Engine
import TensorCore

extension ReduceMean: Differentiable {
    /// `dx[i] = dy[o(i)] / n`: each input element receives its mean's gradient, divided by the
    /// number of elements averaged.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let shape = try s.value(0).shape
        let dy = try s.dy
        var dx = try Tensor(shape: shape)
        var strides = [Int](repeating: 0, count: shape.count)
        var stride = 1
        for a in shape.indices.reversed() where !axes.contains(a) {
            strides[a] = stride
            stride *= shape[a]
        }
        let scale = 1 / Float(max(1, axes.reduce(1) { $0 * shape[$1] }))
        var index = [Int](repeating: 0, count: shape.count)
        dy.storage.withUnsafeBufferPointer { gp in
            dx.storage.withUnsafeMutableBufferPointer { dp in
                var o = 0
                for i in dp.indices {
                    dp[i] = gp[o] * scale
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
            }
        }
        return [dx]
    }
}
