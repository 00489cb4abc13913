import TensorCore

extension BatchNormalization: FloatKernel {
    /// In place on input 0.
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        var x = try a.take(0)
        batchNormalization(&x, scale: try a.input(1), bias: try a.input(2), mean: try a.input(3), variance: try a.input(4), epsilon: epsilon)
        return [x]
    }
}
