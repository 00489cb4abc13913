import TensorCore

extension PRelu: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        [try prelu(try a.take(0), slope: try a.input(1))]
    }
}
