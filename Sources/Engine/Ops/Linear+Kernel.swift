import TensorCore

extension Linear: FloatKernel {
    /// One sgemm over all rows (`Kernels/Linear.swift`).
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        [try linear(try a.input(0), weights: try a.input(1), bias: a.optional(2))]
    }
}
