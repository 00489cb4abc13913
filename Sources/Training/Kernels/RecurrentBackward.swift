import Engine
import TensorCore

/// Gradients of one recurrent layer (`Engine.recurrent`) by backpropagation through time: `x`
/// N×L×C, `w` C×G·H, `r` H×G·H, `mask` N×L or nil; `forward` the forward pass with its trace;
/// `dy` N×L×H (of the state sequence), `dh` / `dc` N×H the gradients of the outputs (nil:
/// none). A skipped step passes its row's state gradient through unchanged. Returns `dx`, `dW`,
/// `dR`, `db` (G·H, the input bias) and `drb` (G·H, the recurrent bias of a reset-after GRU).
func recurrentBackward(
    _ op: Recurrent, x: Tensor, w: Tensor, r: Tensor, mask: Tensor? = nil, forward: RecurrentResult, dy: Tensor?, dh: Tensor?, dc: Tensor?
) throws -> (dx: Tensor, dw: Tensor, dr: Tensor, db: Tensor, drb: Tensor) {
    guard let trace = forward.trace else { throw ModelPressError.internalError("recurrent backward without a recorded forward pass") }
    let (n, steps, inputs) = (x.shape[0], x.shape[1], x.shape[2])
    let units = op.units, width = op.cell.gates * units
    var dxw = [Float](repeating: 0, count: steps * n * width)
    var dr = try Tensor(shape: [units, width]), drb = try Tensor(shape: [width])
    // Per-step scratch: carried dh and dc, activated gates, the recurrent-side gradient.
    var carried = dh?.storage ?? [Float](repeating: 0, count: n * units)
    var carriedCell = dc?.storage ?? [Float](repeating: 0, count: n * units)
    var activated = [Float](repeating: 0, count: n * width), recurrentSide = activated
    var resetGradient = [Float](repeating: 0, count: n * units), cellOutput = resetGradient
    let zero = [Float](repeating: 0, count: n * units)
    let y = forward.y.storage
    func skipped(_ row: Int, _ t: Int) -> Bool { mask.map { $0.storage[row * steps + t] == 0 } ?? false }
    var keptCarried = zero
    for s in stride(from: steps - 1, through: 0, by: -1) {
        let t = op.reverse ? steps - 1 - s : s
        let previous = s == 0 ? nil : (op.reverse ? t + 1 : t - 1)
        // h_prev[row] = y[row, previous] or 0; c_prev from the trace.
        func hPrev(_ row: Int, _ j: Int) -> Float { previous.map { y[(row * steps + $0) * units + j] } ?? 0 }
        // This step's pre-activations (rows `da = (t·N + row)·G·H` of `trace.gates`), activated below.
        activated.replaceSubrange(0..<(n * width), with: trace.gates[(t * n * width)..<((t + 1) * n * width)])
        if let dy { for row in 0..<n { for j in 0..<units { carried[row * units + j] += dy.storage[(row * steps + t) * units + j] } } }
        activated.withUnsafeMutableBufferPointer { ap in
            for row in 0..<n {
                for (block, f) in op.gateActivations.enumerated() {
                    applyActivation(f, UnsafeMutableBufferPointer(start: ap.baseAddress! + row * width + block * units, count: units))
                }
            }
        }
        if op.cell == .lstm {
            cellOutput.replaceSubrange(0..<(n * units), with: trace.extra[(t * n * units)..<((t + 1) * n * units)])
            cellOutput.withUnsafeMutableBufferPointer { applyActivation(op.output, $0) }
        }
        for row in 0..<n {
            let g = row * width, u = row * units
            let da = (t * n + row) * width
            if skipped(row, t) {
                // The state passed through: no gate gradient, the carried gradients kept as they are.
                for j in 0..<width { recurrentSide[g + j] = 0 }
                for j in 0..<units { keptCarried[u + j] = carried[u + j] }
                continue
            }
            switch op.cell {
            case .simple:
                for j in 0..<units { dxw[da + j] = carried[u + j] * activationDerivative(op.candidate, trace.gates[da + j]) }
            case .lstm:
                for j in 0..<units {
                    let cj = trace.extra[(t * n + row) * units + j]
                    let cPrev = previous.map { trace.extra[($0 * n + row) * units + j] } ?? 0
                    let (i, f, cand, o) = (activated[g + j], activated[g + units + j], activated[g + 2 * units + j], activated[g + 3 * units + j])
                    let dcj = carriedCell[u + j] + carried[u + j] * o * activationDerivative(op.output, cj)
                    dxw[da + j] = dcj * cand * activationDerivative(op.gate, trace.gates[da + j])
                    dxw[da + units + j] = dcj * cPrev * activationDerivative(op.gate, trace.gates[da + units + j])
                    dxw[da + 2 * units + j] = dcj * i * activationDerivative(op.candidate, trace.gates[da + 2 * units + j])
                    dxw[da + 3 * units + j] = carried[u + j] * cellOutput[u + j] * activationDerivative(op.gate, trace.gates[da + 3 * units + j])
                    carriedCell[u + j] = dcj * f
                }
            case .gru(let resetAfter):
                let kept = (t * n + row) * units
                for j in 0..<units {
                    let (z, reset, cand) = (activated[g + j], activated[g + units + j], activated[g + 2 * units + j])
                    let dhj = carried[u + j]
                    let dn = dhj * (1 - z) * activationDerivative(op.candidate, trace.gates[da + 2 * units + j])
                    // reset after: the candidate reads r⊙(h·R_h + rb_h); before: (r⊙h)·R_h, whose
                    // gradient with respect to r⊙h needs R_h (below).
                    let dReset = resetAfter ? dn * trace.extra[kept + j] : 0
                    dxw[da + j] = dhj * (hPrev(row, j) - cand) * activationDerivative(op.gate, trace.gates[da + j])
                    dxw[da + units + j] = dReset * activationDerivative(op.gate, trace.gates[da + units + j])
                    dxw[da + 2 * units + j] = dn
                    carried[u + j] = dhj * z
                    recurrentSide[g + 2 * units + j] = resetAfter ? dn * reset : 0
                }
            }
        }
        // Recurrent-side gradient (what flowed into h·R): the gate gradients, except a GRU's
        // candidate block (r⊙ it when resetting after; handled apart when resetting before).
        for row in 0..<n {
            let g = row * width, da = (t * n + row) * width
            let direct = op.cell.gates == 3 ? 2 * units : width
            for j in 0..<direct { recurrentSide[g + j] = dxw[da + j] }
        }
        if case .gru(false) = op.cell {
            // d(r⊙h) = dn·R_hᵀ; dr = d(r⊙h)⊙h_prev; dh_prev += d(r⊙h)⊙r; dR_h += (r⊙h)ᵀ·dn.
            dxw.withUnsafeBufferPointer { dp in
                r.storage.withUnsafeBufferPointer { rp in
                    resetGradient.withUnsafeMutableBufferPointer { qp in
                        GEMM.sgemm(
                            transB: true, m: n, n: units, k: units, a: dp.baseAddress! + t * n * width + 2 * units, lda: width,
                            b: rp.baseAddress! + 2 * units, ldb: width, c: qp.baseAddress!, ldc: units)
                    }
                }
                dr.storage.withUnsafeMutableBufferPointer { drp in
                    trace.extra.withUnsafeBufferPointer { ep in
                        GEMM.sgemm(
                            transA: true, m: units, n: units, k: n, a: ep.baseAddress! + t * n * units, lda: units,
                            b: dp.baseAddress! + t * n * width + 2 * units, ldb: width, beta: 1, c: drp.baseAddress! + 2 * units, ldc: width)
                    }
                }
            }
            for row in 0..<n {
                let g = row * width, da = (t * n + row) * width, u = row * units
                for j in 0..<units {
                    let reset = activated[g + units + j]
                    let dReset = resetGradient[u + j] * hPrev(row, j) * activationDerivative(op.gate, trace.gates[da + units + j])
                    dxw[da + units + j] = dReset
                    recurrentSide[g + units + j] = dReset
                    carried[u + j] += resetGradient[u + j] * reset
                }
            }
        }
        if case .gru = op.cell {} else { carried = zero }
        for row in 0..<n where skipped(row, t) { for j in 0..<units { carried[row * units + j] = keptCarried[row * units + j] } }
        // dR += h_prevᵀ·side; drb += Σ side; dh_prev += side·Rᵀ.
        for row in 0..<n { for j in 0..<width { drb.storage[j] += recurrentSide[row * width + j] } }
        guard let previous else { continue }
        let rows = op.cell == .gru(resetAfter: false) ? 2 * units : width
        y.withUnsafeBufferPointer { yp in
            recurrentSide.withUnsafeBufferPointer { sp in
                dr.storage.withUnsafeMutableBufferPointer { drp in
                    GEMM.sgemm(
                        transA: true, m: units, n: rows, k: n, a: yp.baseAddress! + previous * units, lda: steps * units,
                        b: sp.baseAddress!, ldb: width, beta: 1, c: drp.baseAddress!, ldc: width)
                }
                r.storage.withUnsafeBufferPointer { rp in
                    carried.withUnsafeMutableBufferPointer { cp in
                        GEMM.sgemm(
                            transB: true, m: n, n: units, k: rows, a: sp.baseAddress!, lda: width, b: rp.baseAddress!, ldb: width,
                            beta: 1, c: cp.baseAddress!, ldc: units)
                    }
                }
            }
        }
    }
    // x·W + b for every step: dW = x_tmᵀ·dxw, db = Σ dxw, dx_tm = dxw·Wᵀ.
    let timeMajor = try x.transposed([1, 0, 2])
    var dw = try Tensor(shape: [inputs, width]), db = try Tensor(shape: [width]), dxTimeMajor = try Tensor(shape: [steps, n, inputs])
    dxw.withUnsafeBufferPointer { dp in
        timeMajor.storage.withUnsafeBufferPointer { xp in
            dw.storage.withUnsafeMutableBufferPointer { wp in
                GEMM.sgemm(transA: true, m: inputs, n: width, k: steps * n, a: xp.baseAddress!, lda: inputs, b: dp.baseAddress!, ldb: width, c: wp.baseAddress!, ldc: width)
            }
        }
        w.storage.withUnsafeBufferPointer { wp in
            dxTimeMajor.storage.withUnsafeMutableBufferPointer { xp in
                GEMM.sgemm(transB: true, m: steps * n, n: inputs, k: width, a: dp.baseAddress!, lda: width, b: wp.baseAddress!, ldb: width, c: xp.baseAddress!, ldc: inputs)
            }
        }
        for row in 0..<(steps * n) { for j in 0..<width { db.storage[j] += dp[row * width + j] } }
    }
    return (try dxTimeMajor.transposed([1, 0, 2]), dw, dr, db, drb)
}
