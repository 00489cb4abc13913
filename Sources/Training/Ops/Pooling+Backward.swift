import TensorCore

extension MaxPool2D: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try pool2DBackward(x: try s.value(0), dy: try s.dy, attributes: window, max: true)] }
}

extension AveragePool2D: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try pool2DBackward(x: try s.value(0), dy: try s.dy, attributes: window, max: false)] }
}

extension GlobalAveragePool: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try globalPoolBackward(x: try s.value(0), dy: try s.dy, max: false)] }
}

extension GlobalMaxPool: Differentiable {
    func backward(_ s: BackwardStep) throws -> [Tensor?] { [try globalPoolBackward(x: try s.value(0), dy: try s.dy, max: true)] }
}
