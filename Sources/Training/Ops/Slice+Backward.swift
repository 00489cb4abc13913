import TensorCore

extension Slice: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try sliceBackward(dy: try s.dy, begin: begin, inputShape: try s.value(0).shape)] }
}
