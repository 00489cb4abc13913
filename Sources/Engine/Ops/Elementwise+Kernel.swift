import TensorCore

extension ElementwiseOp: FloatKernel {
    /// Accumulates into input 0 (broadcast first when it is the smaller operand).
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        let first = try a.take(0)
        return [try elementwise(self, first, try a.inputs(from: 1))]
    }
}
