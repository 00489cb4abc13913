import TensorCore

extension ConvTranspose2D: FloatKernel {
    /// sgemm + col2im (`Kernels/ConvTranspose2D.swift`).
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        [try convTranspose2D(try a.input(0), weights: try a.input(1), bias: a.optional(2), attributes: self)]
    }
}
