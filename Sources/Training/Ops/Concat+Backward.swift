import TensorCore

extension Concat: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        try concatBackward(dy: try s.dy, shapes: try s.values().map(\.shape), axis: axis)
    }
}
