import TensorCore

extension Conv2DAttributes: FloatKernel {
    /// im2col + sgemm, or direct loops for depthwise convolutions (`Kernels/Conv2D.swift`).
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        [try conv2D(try a.input(0), weights: try a.input(1), bias: a.optional(2), attributes: self)]
    }
}
