import TensorCore

extension UpsampleNearest: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        [try upsampleNearestBackward(dy: try s.dy, scales: scales, inputShape: try s.value(0).shape)]
    }
}
