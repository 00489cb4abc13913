import TensorCore

extension Activation: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try activationBackward(self, x: try s.value(0), dy: try s.dy)] }
}
