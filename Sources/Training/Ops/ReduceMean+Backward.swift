import Engine
import TensorCore

extension ReduceMean: Differentiable {
    /// `dx = broadcast(dy) / n`: each input element receives its mean's gradient, divided by
    /// the number of elements averaged.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let shape = try s.value(0).shape
        let kept = keptShape(shape)
        var dx = try broadcastTo(try s.dy.reshaped(kept), shape)
        let scale = 1 / Float(max(1, dx.count / max(1, kept.reduce(1, *))))
        dx.storage.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] *= scale }
        }
        return [dx]
    }
}
