import TensorCore

extension PRelu: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let (dx, ds) = try preluBackward(x: try s.value(0), slope: try s.value(1), dy: try s.dy)
        return [dx, ds]
    }
}
