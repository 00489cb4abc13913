import TensorCore

/// Elementwise `kind` over `inputs` with numpy broadcasting; returns the broadcast shape.
/// `mean` averages all inputs; `subtract` and `divide` take exactly two.
public func elementwise(_ kind: ElementwiseOp, _ inputs: [Tensor]) throws -> Tensor {
    guard let first = inputs.first else { throw ModelPressError.internalError("elementwise op without inputs") }
    return try elementwise(kind, first, Array(inputs.dropFirst()))
}

/// Elementwise `kind` of `first` and `rest`; reuses `first`'s buffer when it already has the
/// broadcast shape and is uniquely referenced.
public func elementwise(_ kind: ElementwiseOp, _ first: Tensor, _ rest: [Tensor]) throws -> Tensor {
    var shape = first.shape
    for t in rest {
        guard let s = ShapeInference.broadcastShape(shape, t.shape) else {
            throw ModelPressError.internalError("shapes \(shape) and \(t.shape) do not broadcast")
        }
        shape = s
    }
    var out = try broadcast(first, to: shape)
    for t in rest {
        combine(&out, t, kind == .mean ? .add : kind)
    }
    if kind == .mean {
        let scale = 1 / Float(rest.count + 1)
        out.storage.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= scale } }
    }
    return out
}

/// `x` broadcast (numpy rules) to `shape`, materialised.
func broadcast(_ x: Tensor, to shape: [Int]) throws -> Tensor {
    if x.shape == shape { return x }
    var out = try Tensor(uninitializedShape: shape)
    guard let last = shape.last else { return x }
    let xs = broadcastStrides(x.shape, to: shape), os = contiguousStrides(shape)
    let step = xs[shape.count - 1]
    x.storage.withUnsafeBufferPointer { xp in
        out.storage.withUnsafeMutableBufferPointer { op in
            forEachRow(shape, strides: [os, xs]) { off in
                let dst = op.baseAddress! + off[0], src = xp.baseAddress! + off[1]
                for i in 0..<last { dst[i] = src[i * step] }
            }
        }
    }
    return out
}

/// `acc = acc ∘ x` elementwise, with `x` broadcast to `acc`'s shape. Equal shapes run as one
/// flat loop; otherwise rows of the last axis, contiguous or repeating one value.
func combine(_ acc: inout Tensor, _ x: Tensor, _ kind: ElementwiseOp) {
    let shape = acc.shape
    guard let last = shape.last else {
        acc.storage[0] = apply(kind, acc.storage[0], x.storage[0])
        return
    }
    if x.shape == shape {
        x.storage.withUnsafeBufferPointer { xp in
            acc.storage.withUnsafeMutableBufferPointer { ap in
                combineRow(ap.baseAddress!, xp.baseAddress!, count: ap.count, step: 1, kind)
            }
        }
        return
    }
    let xs = broadcastStrides(x.shape, to: shape), os = contiguousStrides(shape)
    let step = xs[shape.count - 1]
    x.storage.withUnsafeBufferPointer { xp in
        acc.storage.withUnsafeMutableBufferPointer { ap in
            forEachRow(shape, strides: [os, xs]) { off in
                combineRow(ap.baseAddress! + off[0], xp.baseAddress! + off[1], count: last, step: step, kind)
            }
        }
    }
}

/// `dst[i] = dst[i] ∘ src[i·step]` for `i < count`; `step` is 1 (contiguous) or 0 (one value).
@inline(__always)
private func combineRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int, step: Int, _ kind: ElementwiseOp) {
    if step == 0 {
        let v = src[0]
        switch kind {
        case .add, .mean: for i in 0..<count { dst[i] += v }
        case .subtract: for i in 0..<count { dst[i] -= v }
        case .multiply: for i in 0..<count { dst[i] *= v }
        case .divide: for i in 0..<count { dst[i] /= v }
        case .maximum: for i in 0..<count { dst[i] = max(dst[i], v) }
        case .minimum: for i in 0..<count { dst[i] = min(dst[i], v) }
        }
        return
    }
    switch kind {
    case .add, .mean: for i in 0..<count { dst[i] += src[i] }
    case .subtract: for i in 0..<count { dst[i] -= src[i] }
    case .multiply: for i in 0..<count { dst[i] *= src[i] }
    case .divide: for i in 0..<count { dst[i] /= src[i] }
    case .maximum: for i in 0..<count { dst[i] = max(dst[i], src[i]) }
    case .minimum: for i in 0..<count { dst[i] = min(dst[i], src[i]) }
    }
}

@inline(__always)
func apply(_ kind: ElementwiseOp, _ a: Float, _ b: Float) -> Float {
    switch kind {
    case .add, .mean: return a + b
    case .subtract: return a - b
    case .multiply: return a * b
    case .divide: return a / b
    case .maximum: return max(a, b)
    case .minimum: return min(a, b)
    }
}

/// Parametric ReLU: `x` of any shape N×…, `slope` broadcast to x's per-sample shape;
/// `y = x if x ≥ 0 else slope · x`.
public func prelu(_ x: Tensor, slope: Tensor) throws -> Tensor {
    let slopes = try broadcast(slope, to: Array(x.shape.dropFirst()))
    let per = slopes.count
    var y = x
    y.storage.withUnsafeMutableBufferPointer { yp in
        slopes.storage.withUnsafeBufferPointer { sp in
            for i in yp.indices where yp[i] < 0 { yp[i] *= sp[i % per] }
        }
    }
    return y
}
