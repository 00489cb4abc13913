import Engine
import TensorCore

extension ElementwiseOp: Differentiable {
    /// Max/Min/Mul need the output; a dropout-masked output is recomputed.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let inputs = try s.values()
        let y = s.outputWasMasked ? try elementwise(self, inputs) : try s.output()
        return try elementwiseBackward(self, inputs: inputs, y: y, dy: try s.dy)
    }
}
