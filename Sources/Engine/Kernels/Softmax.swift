import Foundation
import TensorCore

/// Softmax along `axis`: `y = exp(x − max) / Σ exp(x − max)` over that axis, any shape.
public func softmax(_ x: Tensor, axis: Int) -> Tensor {
    var y = x
    softmax(&y, axis: axis)
    return y
}

/// In-place softmax of `y` along `axis`.
public func softmax(_ y: inout Tensor, axis: Int) {
    let n = y.shape[axis]
    let outer = y.shape[..<axis].reduce(1, *), inner = y.shape[(axis + 1)...].reduce(1, *)
    y.storage.withUnsafeMutableBufferPointer { p in
        for o in 0..<outer {
            for i in 0..<inner {
                let base = p.baseAddress! + o * n * inner + i
                var m = -Float.infinity
                for k in 0..<n { m = max(m, base[k * inner]) }
                var sum: Float = 0
                for k in 0..<n { let e = exp(base[k * inner] - m); base[k * inner] = e; sum += e }
                let r = 1 / sum
                for k in 0..<n { base[k * inner] *= r }
            }
        }
    }
}
