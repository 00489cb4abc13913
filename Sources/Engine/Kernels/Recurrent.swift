import TensorCore

/// What a recurrent forward pass keeps for its backward, time-major by step position `t`
/// (not processing order): `gates` L×N×G·H, the pre-activation of every gate; `extra` L×N×H,
/// the LSTM cell state after the step, a reset-after GRU's recurrent candidate `h·R_h + rb_h`,
/// or a reset-before GRU's `r⊙h` (empty for a simple cell).
public struct RecurrentTrace {
    /// Pre-activation gates, L×N×G·H.
    public var gates: [Float]
    /// The per-cell extra state, L×N×H.
    public var extra: [Float]
}

/// The outputs of `recurrent(_:x:…)`: `y` N×L×H, `h` N×H, `c` N×H (LSTM), and the trace when recorded.
public struct RecurrentResult {
    /// Hidden state after each step, at the step's position.
    public var y: Tensor
    /// Hidden state after the last step processed.
    public var h: Tensor
    /// Cell state after the last step processed (LSTM only).
    public var c: Tensor?
    /// What the backward pass needs (when asked for).
    public var trace: RecurrentTrace?
}

/// One direction of a recurrent layer (formulas on `Recurrent.Cell`): `x` N×L×C, `w` C×G·H,
/// `r` H×G·H, `mask` N×L or nil, `bias` / `recurrentBias` G·H or nil, gates in Keras's order.
/// One sgemm computes `x·W + b` for every step (time-major); each step adds `h·R` with one
/// sgemm reading the previous step's row of `y` in place (leading dimension L·H). A row whose
/// mask is 0 at a step keeps its state (`y` there repeats it; the cell state is restored).
public func recurrent(
    _ op: Recurrent, x: Tensor, w: Tensor, r: Tensor, mask: Tensor? = nil, bias: Tensor?, recurrentBias: Tensor?, record: Bool = false
) throws -> RecurrentResult {
    let (n, steps) = (x.shape[0], x.shape[1])
    let units = op.units, width = op.cell.gates * units
    var y = try Tensor(shape: [n, steps, units])
    var gates = [Float](repeating: 0, count: record ? steps * n * width : 0)
    var extra = [Float](repeating: 0, count: record && op.cell != .simple ? steps * n * units : 0)
    let xw = try timeMajorProjection(x, w: w, bias: bias)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * n * width + 3 * n * units)
    defer { scratch.deallocate() }
    scratch.initialize(repeating: 0, count: 3 * n * width + 3 * n * units)
    let (pre, activated, product) = (scratch, scratch + n * width, scratch + 2 * n * width)
    let cell = scratch + 3 * n * width, zero = cell + n * units, keptCell = zero + n * units
    let skips = mask.map { m in { (row: Int, t: Int) in m.storage[row * steps + t] == 0 } } ?? { _, _ in false }
    xw.withUnsafeBufferPointer { xp in
        r.storage.withUnsafeBufferPointer { rp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                for s in 0..<steps {
                    let t = op.reverse ? steps - 1 - s : s
                    let previous = s == 0 ? nil : (op.reverse ? t + 1 : t - 1)
                    pre.update(from: xp.baseAddress! + t * n * width, count: n * width)
                    let step = RecurrentStep(
                        op: op, n: n, units: units, width: width,
                        h: previous.map { UnsafePointer(yp.baseAddress! + $0 * units) } ?? UnsafePointer(zero),
                        ldh: previous == nil ? units : steps * units, r: rp.baseAddress!, recurrentBias: recurrentBias?.storage,
                        pre: pre, activated: activated, product: product, cell: cell)
                    if op.cell == .lstm { for row in 0..<n where skips(row, t) { (keptCell + row * units).update(from: cell + row * units, count: units) } }
                    step.run()
                    for row in 0..<n {
                        let skipped = skips(row, t)
                        if skipped, op.cell == .lstm { (cell + row * units).update(from: keptCell + row * units, count: units) }
                        let state = skipped ? previous.map { UnsafePointer(yp.baseAddress! + (row * steps + $0) * units) } ?? UnsafePointer(zero) : step.hidden(row)
                        (yp.baseAddress! + (row * steps + t) * units).update(from: state, count: units)
                    }
                    guard record else { continue }
                    gates.withUnsafeMutableBufferPointer { ($0.baseAddress! + t * n * width).update(from: pre, count: n * width) }
                    extra.withUnsafeMutableBufferPointer { e in
                        for row in 0..<n { if let kept = step.extra(row) { (e.baseAddress! + (t * n + row) * units).update(from: kept, count: units) } }
                    }
                }
            }
        }
    }
    let last = op.reverse ? 0 : steps - 1
    var h = try Tensor(shape: [n, units])
    h.storage.withUnsafeMutableBufferPointer { hp in
        y.storage.withUnsafeBufferPointer { yp in
            for row in 0..<n { (hp.baseAddress! + row * units).update(from: yp.baseAddress! + (row * steps + last) * units, count: units) }
        }
    }
    let c = op.cell == .lstm ? try Tensor(shape: [n, units], storage: Array(UnsafeBufferPointer(start: cell, count: n * units))) : nil
    return RecurrentResult(y: y, h: h, c: c, trace: record ? RecurrentTrace(gates: gates, extra: extra) : nil)
}

/// `x` N×L×C reordered time-major and projected: `(L·N)×G·H` rows `t·N + n` = `x[n, t]·W + b`.
func timeMajorProjection(_ x: Tensor, w: Tensor, bias: Tensor?) throws -> [Float] {
    try linear(try x.transposed([1, 0, 2]), weights: w, bias: bias).storage
}

/// The state update of one step on raw buffers: `pre` N×G·H holds `x·W + b` on entry and the
/// gates' pre-activations on return; `activated` their activations; `product` holds the new
/// hidden state in block 0 of each row (`hidden(row)`); `cell` N×H the LSTM cell state.
struct RecurrentStep {
    let op: Recurrent
    let n: Int, units: Int, width: Int
    /// The previous hidden state, N×H with leading dimension `ldh`.
    let h: UnsafePointer<Float>, ldh: Int
    let r: UnsafePointer<Float>
    let recurrentBias: [Float]?
    let pre: UnsafeMutablePointer<Float>, activated: UnsafeMutablePointer<Float>, product: UnsafeMutablePointer<Float>
    let cell: UnsafeMutablePointer<Float>

    /// The new hidden state of `row` (H floats) once `run()` returned.
    func hidden(_ row: Int) -> UnsafePointer<Float> { UnsafePointer(product + row * width) }

    /// What the trace keeps as `extra` for `row` (H floats), once `run()` returned: the LSTM
    /// cell state, the GRU candidate's recurrent part; nil for a simple cell.
    func extra(_ row: Int) -> UnsafePointer<Float>? {
        switch op.cell {
        case .simple: nil
        case .lstm: UnsafePointer(cell + row * units)
        case .gru: UnsafePointer(product + row * width + units)
        }
    }

    /// Runs the step.
    func run() {
        switch op.cell {
        case .simple:
            BLAS.sgemm(m: n, n: width, k: units, a: h, lda: ldh, b: r, ldb: width, beta: 1, c: pre, ldc: width)
            product.update(from: pre, count: n * width)
            applyActivation(op.candidate, UnsafeMutableBufferPointer(start: product, count: n * width))
        case .lstm:
            BLAS.sgemm(m: n, n: width, k: units, a: h, lda: ldh, b: r, ldb: width, beta: 1, c: pre, ldc: width)
            activate(blocks: 0..<4)
            for row in 0..<n {
                let a = activated + row * width, c = cell + row * units, out = product + row * width
                for j in 0..<units {
                    c[j] = a[units + j] * c[j] + a[j] * a[2 * units + j]
                    out[j] = c[j]
                }
                applyActivation(op.output, UnsafeMutableBufferPointer(start: out, count: units))
                for j in 0..<units { out[j] *= a[3 * units + j] }
            }
        case .gru(let resetAfter):
            if resetAfter {
                // product = h·R + rb; z, r take their blocks, the candidate r⊙(its block).
                BLAS.sgemm(m: n, n: width, k: units, a: h, lda: ldh, b: r, ldb: width, c: product, ldc: width)
                for row in 0..<n {
                    let q = product + row * width, p = pre + row * width
                    if let rb = recurrentBias { for j in 0..<width { q[j] += rb[j] } }
                    for j in 0..<(2 * units) { p[j] += q[j] }
                }
                activate(blocks: 0..<2)
                for row in 0..<n {
                    let q = product + row * width, p = pre + row * width, a = activated + row * width
                    for j in 0..<units { p[2 * units + j] += a[units + j] * q[2 * units + j] }
                }
            } else {
                BLAS.sgemm(m: n, n: 2 * units, k: units, a: h, lda: ldh, b: r, ldb: width, beta: 1, c: pre, ldc: width)
                activate(blocks: 0..<2)
                // product's candidate block = r⊙h, then pre's candidate block += (r⊙h)·R_h.
                for row in 0..<n {
                    let a = activated + row * width, q = product + row * width + 2 * units, hp = h + row * ldh
                    for j in 0..<units { q[j] = a[units + j] * hp[j] }
                }
                BLAS.sgemm(m: n, n: units, k: units, a: product + 2 * units, lda: width, b: r + 2 * units, ldb: width, beta: 1, c: pre + 2 * units, ldc: width)
            }
            activate(blocks: 2..<3)
            // The candidate's recurrent part (h·R_h + rb_h, or r⊙h) moves to block 1 of
            // `product` (kept by the trace), the new state to block 0.
            for row in 0..<n {
                let a = activated + row * width, q = product + row * width, hp = h + row * ldh
                for j in 0..<units {
                    let z = a[j], candidate = a[2 * units + j]
                    q[units + j] = q[2 * units + j]
                    q[j] = z * hp[j] + (1 - z) * candidate
                }
            }
        }
    }

    /// `activated[:, block] = f(pre[:, block])` for each block, `f` its gate activation.
    private func activate(blocks: Range<Int>) {
        let functions = op.gateActivations
        for block in blocks {
            let f = functions[block]
            for row in 0..<n {
                let offset = row * width + block * units
                (activated + offset).update(from: pre + offset, count: units)
                applyActivation(f, UnsafeMutableBufferPointer(start: activated + offset, count: units))
            }
        }
    }
}
