import Engine
import TensorCore

extension Recurrent: Differentiable {
    /// Backpropagation through time (`Kernels/RecurrentBackward.swift`) over the forward pass
    /// run again with its trace; the mask (when masked) gets no gradient.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let v = try s.values()
        let mask = masked == nil ? nil : v[3]
        let bias = v.count > firstBias ? v[firstBias] : nil, recurrentBias = v.count > firstBias + 1 ? v[firstBias + 1] : nil
        let forward = try recurrent(self, x: v[0], w: v[1], r: v[2], mask: mask, bias: bias, recurrentBias: recurrentBias, record: true)
        let g = s.outputGradients
        var dy = g.first ?? nil
        if let mask, let given = dy { dy = try maskedOutput(given, mask: mask) }
        let grads = try recurrentBackward(
            self, x: v[0], w: v[1], r: v[2], mask: mask, forward: forward, dy: dy, dh: g.count > 1 ? g[1] : nil, dc: g.count > 2 ? g[2] : nil)
        return [grads.dx, grads.dw, grads.dr] + (mask == nil ? [] : [nil]) + (bias == nil ? [] : [grads.db]) + (recurrentBias == nil ? [] : [grads.drb])
    }
}
