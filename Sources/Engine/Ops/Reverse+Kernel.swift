import TensorCore

extension Reverse: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try reversed(try a.input(0), axis: axis)] }
}

/// `x` with the order along `axis` reversed (any rank): rows of the trailing block copied in
/// reverse order within each leading index.
public func reversed(_ x: Tensor, axis: Int) throws -> Tensor {
    let outer = x.shape[..<axis].reduce(1, *), length = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
    var y = try Tensor(uninitializedShape: x.shape)
    x.storage.withUnsafeBufferPointer { xp in
        y.storage.withUnsafeMutableBufferPointer { yp in
            for o in 0..<outer {
                for i in 0..<length {
                    (yp.baseAddress! + (o * length + i) * inner).update(from: xp.baseAddress! + (o * length + length - 1 - i) * inner, count: inner)
                }
            }
        }
    }
    return y
}
