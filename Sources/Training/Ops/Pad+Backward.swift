import TensorCore

extension Pad: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try padBackward(dy: try s.dy, pads: pads, inputShape: try s.value(0).shape)] }
}
