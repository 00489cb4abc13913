import Engine
import TensorCore

extension Softmax: Differentiable {
    /// The kept output may carry a dropout mask; then the softmax is recomputed from its input.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let y = s.outputWasMasked ? softmax(try s.value(0), axis: axis) : try s.output()
        return [try softmaxBackward(y: y, dy: try s.dy, axis: axis)]
    }
}
