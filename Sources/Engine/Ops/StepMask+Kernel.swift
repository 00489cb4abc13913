import TensorCore

extension StepMask: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try stepMask(try a.input(0), value: value)] }
}

/// The step mask of `x` N×L or N×L×F: N×L, 1 where the step (any of its F features) differs
/// from `value`, else 0.
public func stepMask(_ x: Tensor, value: Float) throws -> Tensor {
    let (n, steps) = (x.shape[0], x.shape[1]), features = x.shape.count == 3 ? x.shape[2] : 1
    var m = try Tensor(shape: [n, steps])
    x.storage.withUnsafeBufferPointer { xp in
        m.storage.withUnsafeMutableBufferPointer { mp in
            for i in 0..<(n * steps) {
                let step = UnsafeBufferPointer(rebasing: xp[(i * features)..<((i + 1) * features)])
                mp[i] = step.contains { $0 != value } ? 1 : 0
            }
        }
    }
    return m
}
