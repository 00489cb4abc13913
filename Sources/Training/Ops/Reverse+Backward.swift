import Engine
import TensorCore

extension Reverse: Differentiable {
    /// The gradient reversed back.
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try reversed(try s.dy, axis: axis)] }
}
