import TensorCore

extension LayerNormalization: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let (dx, dScale, dOffset) = try layerNormalizationBackward(
            x: try s.value(0), scale: try s.value(1), dy: try s.dy,
            axis: axis, epsilon: epsilon)
        return [dx, dScale, s.node.inputs.count > 2 ? dOffset : nil]
    }
}
