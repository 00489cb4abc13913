import TensorCore

extension ExpandBatch: Differentiable {
    /// The constant's gradient is the sum over the batch; the reference gets none.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let c = try s.value(1), dy = try s.dy
        var dc = try Tensor(shape: c.shape)
        for i in 0..<dy.count { dc.storage[i % c.count] += dy.storage[i] }
        return [nil, dc]
    }
}
