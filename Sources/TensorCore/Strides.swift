/// Row-major strides of `shape`.
public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

/// Strides that read a tensor of `shape` broadcast (numpy rules) to `target`: 0 along
/// broadcast axes.
public func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let offset = target.count - shape.count
    return (0..<target.count).map { i in
        i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
    }
}

/// Calls `body(offsets)` once per row of `shape` (all axes but the last, row-major order),
/// with each operand's element offset of that row start, given per-operand strides.
/// The `offsets` buffer is reused: no allocation per row.
public func forEachRow(_ shape: [Int], strides: [[Int]], _ body: (UnsafeBufferPointer<Int>) -> Void) {
    let rank = shape.count
    let operands = strides.count
    var index = [Int](repeating: 0, count: max(rank, 1))
    var offsets = [Int](repeating: 0, count: operands)
    guard !shape.contains(0) else { return }
    if rank <= 1 {
        offsets.withUnsafeBufferPointer { body($0) }
        return
    }
    offsets.withUnsafeMutableBufferPointer { off in
        index.withUnsafeMutableBufferPointer { idx in
            while true {
                body(UnsafeBufferPointer(off))
                var axis = rank - 2
                while axis >= 0 {
                    idx[axis] += 1
                    for k in 0..<operands { off[k] += strides[k][axis] }
                    if idx[axis] < shape[axis] { break }
                    for k in 0..<operands { off[k] -= strides[k][axis] * shape[axis] }
                    idx[axis] = 0
                    axis -= 1
                }
                if axis < 0 { return }
            }
        }
    }
}

extension Tensor {
    /// Axis permutation: output axis i is input axis `perm[i]`; any rank, row-major copy.
    public func transposed(_ perm: [Int]) throws -> Tensor {
        guard perm.sorted() == Array(0..<rank) else {
            throw ModelPressError.internalError("invalid permutation \(perm) for shape \(shape)")
        }
        let outShape = perm.map { shape[$0] }
        var out = try Tensor(uninitializedShape: outShape)
        guard let last = outShape.last else { return self }
        let inStrides = contiguousStrides(shape)
        let readStrides = perm.map { inStrides[$0] }
        let step = readStrides[perm.count - 1]
        storage.withUnsafeBufferPointer { xp in
            out.storage.withUnsafeMutableBufferPointer { op in
                forEachRow(outShape, strides: [contiguousStrides(outShape), readStrides]) { off in
                    let dst = op.baseAddress! + off[0], src = xp.baseAddress! + off[1]
                    if step == 1 { dst.update(from: src, count: last) } else { for i in 0..<last { dst[i] = src[i * step] } }
                }
            }
        }
        return out
    }
}
