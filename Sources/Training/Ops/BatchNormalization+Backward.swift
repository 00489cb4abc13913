import TensorCore

extension BatchNormalization: Differentiable {
    /// Through the batch statistics when the forward pass used them, else through frozen ones.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        if let cache = s.tape.batchNorm[s.index] {
            let (dx, ds, db) = try batchNormTrainingBackward(dy: try s.dy, scale: try s.value(1), cache: cache)
            return [dx, ds, db, nil, nil]
        }
        let (dx, ds, db) = try batchNormFrozenBackward(
            x: try s.value(0), dy: try s.dy, scale: try s.value(1), mean: try s.value(3),
            variance: try s.value(4), epsilon: epsilon)
        return [dx, ds, db, nil, nil]
    }
}
