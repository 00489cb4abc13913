import TensorCore

extension ConvTranspose2D: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let (dx, dw, db) = try convTranspose2DBackward(x: try s.value(0), weights: try s.value(1), dy: try s.dy, attributes: self)
        return [dx, dw, s.hasBias ? db : nil]
    }
}
