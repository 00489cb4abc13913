import TensorCore

extension Linear: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let (dx, dw, db) = try linearBackward(x: try s.value(0), weights: try s.value(1), dy: try s.dy)
        return [dx, dw, s.hasBias ? db : nil]
    }
}
