import Engine
import TensorCore

extension Recurrent: Differentiable {
    /// Backpropagation through time (`Kernels/RecurrentBackward.swift`) over the forward pass
    /// run again with its trace.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let v = try s.values()
        let bias = v.count > 3 ? v[3] : nil, recurrentBias = v.count > 4 ? v[4] : nil
        let forward = try recurrent(self, x: v[0], w: v[1], r: v[2], bias: bias, recurrentBias: recurrentBias, record: true)
        let g = s.outputGradients
        let grads = try recurrentBackward(
            self, x: v[0], w: v[1], r: v[2], forward: forward, dy: g.first ?? nil, dh: g.count > 1 ? g[1] : nil, dc: g.count > 2 ? g[2] : nil)
        return [grads.dx, grads.dw, grads.dr] + (bias == nil ? [] : [grads.db]) + (recurrentBias == nil ? [] : [grads.drb])
    }
}
