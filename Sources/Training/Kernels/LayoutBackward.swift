import Engine
import TensorCore

/// Gradient of a transpose by `perm`: `dy` transposed by the inverse permutation.
public func transposeBackward(dy: Tensor, perm: [Int]) throws -> Tensor {
    var inverse = [Int](repeating: 0, count: perm.count)
    for (i, p) in perm.enumerated() { inverse[p] = i }
    return try transpose(dy, perm: inverse)
}

/// Gradient of a concatenation along `axis`: `dy` split back into pieces of `shapes`.
public func concatBackward(dy: Tensor, shapes: [[Int]], axis: Int) throws -> [Tensor] {
    var start = 0
    return try shapes.map { shape in
        var begin = [Int](repeating: 0, count: dy.rank), end = dy.shape
        begin[axis] = start
        end[axis] = start + shape[axis]
        start += shape[axis]
        return try slice(dy, begin: begin, end: end)
    }
}

/// Gradient of zero padding (`pads` = `[begin_0…, end_0…]`): the unpadded window of `dy`.
public func padBackward(dy: Tensor, pads: [Int], inputShape: [Int]) throws -> Tensor {
    let r = inputShape.count
    let begin = Array(pads[0..<r])
    let end = (0..<r).map { begin[$0] + inputShape[$0] }
    return try slice(dy, begin: begin, end: end)
}

/// Gradient of a crop to `[begin, end)` (batch axis untouched): `dy` zero padded back to `inputShape`.
public func sliceBackward(dy: Tensor, begin: [Int], inputShape: [Int]) throws -> Tensor {
    let r = inputShape.count
    var pads = [Int](repeating: 0, count: 2 * r)
    for i in 1..<r {
        pads[i] = begin[i]
        pads[r + i] = inputShape[i] - begin[i] - dy.shape[i]
    }
    return try pad(dy, pads: pads)
}

/// Gradients of an elementwise op with numpy broadcasting, one per input (`inputs` are the
/// forward inputs, `y` the forward output): add/mean/subtract pass `dy` (scaled or negated),
/// multiply multiplies by the other factors, divide `a/b` gives `dy/b` and `−dy·a/b²`,
/// maximum/minimum route `dy` to the selected input (the first on ties). Each gradient is
/// summed back to its input's shape.
public func elementwiseBackward(_ kind: ElementwiseOp, inputs: [Tensor], y: Tensor, dy: Tensor) throws -> [Tensor] {
    switch kind {
    case .add: return try inputs.map { try sumToShape(dy, $0.shape) }
    case .mean:
        let scale = 1 / Float(inputs.count)
        let scaled = try Tensor(shape: dy.shape, storage: dy.storage.map { $0 * scale })
        return try inputs.map { try sumToShape(scaled, $0.shape) }
    case .subtract:
        let negated = try Tensor(shape: dy.shape, storage: dy.storage.map { -$0 })
        return [try sumToShape(dy, inputs[0].shape), try sumToShape(negated, inputs[1].shape)]
    case .multiply:
        return try inputs.indices.map { i in
            let others = inputs.indices.filter { $0 != i }.map { inputs[$0] }
            return try sumToShape(try elementwise(.multiply, dy, others), inputs[i].shape)
        }
    case .divide:
        let a = inputs[0], b = inputs[1]
        let da = try elementwise(.divide, dy, [b])
        // −dy·a/b² = −(dy/b)·(a/b) = −da·y
        var db = try elementwise(.multiply, da, [y])
        db.storage.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = -p[i] } }
        return [try sumToShape(da, a.shape), try sumToShape(db, b.shape)]
    case .maximum, .minimum:
        // Route to the first input whose broadcast value equals the output.
        let broadcasted = try inputs.map { try broadcastTo($0, y.shape) }
        var grads = try inputs.map { _ in try Tensor(shape: y.shape) }
        for e in 0..<y.count {
            guard let winner = broadcasted.firstIndex(where: { $0.storage[e] == y.storage[e] }) else { continue }
            grads[winner].storage[e] = dy.storage[e]
        }
        return try inputs.indices.map { try sumToShape(grads[$0], inputs[$0].shape) }
    }
}
