import TensorCore

/// Calls `body(flatIndexInTarget, offsetInSmall)` for every element of `target`, row-major.
@inlinable
public func forEachBroadcast(_ target: [Int], _ strides: [Int], _ body: (Int, Int) -> Void) {
    let count = target.reduce(1, *)
    guard count > 0 else { return }
    var index = [Int](repeating: 0, count: target.count)
    var offset = 0
    for flat in 0..<count {
        body(flat, offset)
        var a = target.count - 1
        while a >= 0 {
            index[a] += 1
            offset += strides[a]
            if index[a] < target[a] { break }
            offset -= strides[a] * index[a]
            index[a] = 0
            a -= 1
        }
    }
}

/// `t` broadcast (numpy rules) to `shape`, materialised.
public func broadcastTo(_ t: Tensor, _ shape: [Int]) throws -> Tensor {
    if t.shape == shape { return t }
    var out = try Tensor(shape: shape)
    let strides = broadcastStrides(t.shape, to: shape)
    t.storage.withUnsafeBufferPointer { tp in
        out.storage.withUnsafeMutableBufferPointer { op in
            forEachBroadcast(shape, strides) { flat, offset in op[flat] = tp[offset] }
        }
    }
    return out
}

/// The adjoint of broadcasting: sums `t` over the axes along which a tensor of `shape` was
/// broadcast to `t.shape` (numpy rules), giving a tensor of `shape`.
public func sumToShape(_ t: Tensor, _ shape: [Int]) throws -> Tensor {
    if t.shape == shape { return t }
    var out = try Tensor(shape: shape)
    let strides = broadcastStrides(shape, to: t.shape)
    t.storage.withUnsafeBufferPointer { tp in
        out.storage.withUnsafeMutableBufferPointer { op in
            forEachBroadcast(t.shape, strides) { flat, offset in op[offset] += tp[flat] }
        }
    }
    return out
}
