import Engine
import TensorCore

extension Split: Differentiable {
    /// The output gradients concatenated back; an output without a gradient contributes zeros.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let x = try s.value(0)
        let parts = try zip(sizes, s.outputGradients).map { size, g -> Tensor in
            if let g { return g }
            var shape = x.shape
            shape[axis] = size
            return try Tensor(shape: shape)
        }
        return [try concat(parts, axis: axis)]
    }
}
