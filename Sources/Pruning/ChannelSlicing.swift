import TensorCore

/// Index arithmetic of channel pruning: keeping a subset of the indices along one axis of a
/// row-major tensor, and following kept indices through a flatten.
enum ChannelSlicing {
    /// `tensor` with only the indices `keep` (ascending, in range) along `axis`.
    static func keep(_ tensor: Tensor, axis: Int, _ keep: [Int]) throws -> Tensor {
        let shape = tensor.shape
        guard axis >= 0, axis < shape.count, keep.allSatisfy({ $0 >= 0 && $0 < shape[axis] }) else {
            throw ModelPressError.internalError("channel pruning: cannot keep \(keep.count) indices along axis \(axis) of \(shape)")
        }
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *), d = shape[axis]
        var newShape = shape
        newShape[axis] = keep.count
        var out = [Float](repeating: 0, count: outer * keep.count * inner)
        tensor.storage.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for a in 0..<outer {
                    for k in keep {
                        let base = (a * d + k) * inner
                        for i in 0..<inner { dst[o + i] = src[base + i] }
                        o += inner
                    }
                }
            }
        }
        return try Tensor(shape: newShape, storage: out)
    }

    /// For a value of per-sample shape `dims` (batch excluded) whose `axis` (index into `dims`)
    /// keeps `keep`, the kept row-major flat indices of its flattening, ascending.
    static func flatKeep(dims: [Int], axis: Int, _ keep: [Int]) -> [Int] {
        let outer = dims[..<axis].reduce(1, *), inner = dims[(axis + 1)...].reduce(1, *), d = dims[axis]
        var out: [Int] = []
        out.reserveCapacity(outer * keep.count * inner)
        for a in 0..<outer {
            for k in keep {
                let base = (a * d + k) * inner
                for i in 0..<inner { out.append(base + i) }
            }
        }
        return out
    }

    /// Per-output-channel norms of a Conv OIHW weight (axis 0) or a Linear K×M weight (axis 1).
    static func norms(_ weight: Tensor, outputAxis: Int, criterion: ChannelCriterion) -> [Double] {
        let shape = weight.shape
        let outer = shape[..<outputAxis].reduce(1, *), inner = shape[(outputAxis + 1)...].reduce(1, *), d = shape[outputAxis]
        var sums = [Double](repeating: 0, count: d)
        let l1 = criterion == .l1
        weight.storage.withUnsafeBufferPointer { w in
            for a in 0..<outer {
                for c in 0..<d {
                    let base = (a * d + c) * inner
                    var s = 0.0
                    for i in 0..<inner {
                        let v = Double(w[base + i])
                        s += l1 ? abs(v) : v * v
                    }
                    sums[c] += s
                }
            }
        }
        return criterion == .l1 ? sums : sums.map { $0.squareRoot() }
    }
}
