import TensorCore

extension Flatten: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try s.dy.reshaped(try s.value(0).shape)] }
}

extension Reshape: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try s.dy.reshaped(try s.value(0).shape)] }
}

extension Identity: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try s.dy] }
}

extension Transpose: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try transposeBackward(dy: try s.dy, perm: perm)] }
}
