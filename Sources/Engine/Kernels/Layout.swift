import TensorCore

/// Axis permutation: output axis i is input axis `perm[i]`; any rank.
public func transpose(_ x: Tensor, perm: [Int]) throws -> Tensor {
    try x.transposed(perm)
}

/// Concatenation along `axis` of tensors equal in every other dimension.
public func concat(_ inputs: [Tensor], axis: Int) throws -> Tensor {
    var shape = inputs[0].shape
    shape[axis] = inputs.reduce(0) { $0 + $1.shape[axis] }
    var out = try Tensor(uninitializedShape: shape)
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    let outRow = shape[axis] * inner
    var start = 0
    out.storage.withUnsafeMutableBufferPointer { op in
        for t in inputs {
            let chunk = t.shape[axis] * inner
            t.storage.withUnsafeBufferPointer { tp in
                for o in 0..<outer {
                    (op.baseAddress! + o * outRow + start).update(from: tp.baseAddress! + o * chunk, count: chunk)
                }
            }
            start += chunk
        }
    }
    return out
}

/// Zero padding: `pads` is `[begin_0…begin_{r−1}, end_0…end_{r−1}]`.
public func pad(_ x: Tensor, pads: [Int]) throws -> Tensor {
    let r = x.rank
    let shape = (0..<r).map { x.shape[$0] + pads[$0] + pads[$0 + r] }
    var out = try Tensor(shape: shape)
    guard let last = x.shape.last else { return x }
    let os = contiguousStrides(shape)
    let base = (0..<r).reduce(0) { $0 + pads[$1] * os[$1] }
    x.storage.withUnsafeBufferPointer { xp in
        out.storage.withUnsafeMutableBufferPointer { op in
            forEachRow(x.shape, strides: [contiguousStrides(x.shape), os]) { off in
                (op.baseAddress! + base + off[1]).update(from: xp.baseAddress! + off[0], count: last)
            }
        }
    }
    return out
}

/// Crop to `[begin, end)` on every axis.
public func slice(_ x: Tensor, begin: [Int], end: [Int]) throws -> Tensor {
    let shape = (0..<x.rank).map { end[$0] - begin[$0] }
    var out = try Tensor(uninitializedShape: shape)
    guard let last = shape.last else { return x }
    let xs = contiguousStrides(x.shape)
    let base = (0..<x.rank).reduce(0) { $0 + begin[$1] * xs[$1] }
    x.storage.withUnsafeBufferPointer { xp in
        out.storage.withUnsafeMutableBufferPointer { op in
            forEachRow(shape, strides: [contiguousStrides(shape), xs]) { off in
                (op.baseAddress! + off[0]).update(from: xp.baseAddress! + base + off[1], count: last)
            }
        }
    }
    return out
}

/// Nearest-neighbour upsampling by integer `scales` per axis: `out[i…] = x[i / scale…]`.
public func upsampleNearest(_ x: Tensor, scales: [Int]) throws -> Tensor {
    let shape = (0..<x.rank).map { x.shape[$0] * scales[$0] }
    var out = try Tensor(uninitializedShape: shape)
    guard let last = shape.last else { return x }
    let xs = contiguousStrides(x.shape)
    // Rows of the output map onto input rows by dividing each index by its scale, which the
    // shared row walker cannot express; walk output rows with an explicit index instead.
    let rank = shape.count, lastScale = scales[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    let rows = shape.dropLast().reduce(1, *)
    x.storage.withUnsafeBufferPointer { xp in
        out.storage.withUnsafeMutableBufferPointer { op in
            for row in 0..<rows {
                var src = 0
                for a in 0..<(rank - 1) { src += (index[a] / scales[a]) * xs[a] }
                let dst = op.baseAddress! + row * last, line = xp.baseAddress! + src
                for i in 0..<last { dst[i] = line[i / lastScale] }
                var a = rank - 2
                while a >= 0 { index[a] += 1; if index[a] < shape[a] { break }; index[a] = 0; a -= 1 }
            }
        }
    }
    return out
}
