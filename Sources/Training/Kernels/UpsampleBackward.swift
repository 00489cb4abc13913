import TensorCore

/// Gradient of nearest-neighbour upsampling by integer `scales` per axis (see
/// `Engine.upsampleNearest`, `out[i…] = x[i / scale…]`): every input cell receives the sum of
/// the `Π scales` output gradients copied from it. `inputShape` is x's shape.
public func upsampleNearestBackward(dy: Tensor, scales: [Int], inputShape: [Int]) throws -> Tensor {
    var dx = try Tensor(shape: inputShape)
    let rank = dy.rank
    guard rank > 0, let last = dy.shape.last else { return dx }
    var xs = [Int](repeating: 1, count: rank)
    for a in stride(from: rank - 2, through: 0, by: -1) { xs[a] = xs[a + 1] * inputShape[a + 1] }
    let rows = dy.count / max(1, last), lastScale = scales[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    dy.storage.withUnsafeBufferPointer { gp in
        dx.storage.withUnsafeMutableBufferPointer { dp in
            for row in 0..<rows {
                var src = 0
                for a in 0..<(rank - 1) { src += (index[a] / scales[a]) * xs[a] }
                let line = gp.baseAddress! + row * last, dst = dp.baseAddress! + src
                for i in 0..<last { dst[i / lastScale] += line[i] }
                var a = rank - 2
                while a >= 0 { index[a] += 1; if index[a] < dy.shape[a] { break }; index[a] = 0; a -= 1 }
            }
        }
    }
    return dx
}
