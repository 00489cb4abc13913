import TensorCore

extension Softmax: FloatKernel {
    /// In place on input 0.
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        var x = try a.take(0)
        softmax(&x, axis: axis)
        return [x]
    }
}
