import TensorCore

extension MaxPool2D: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try pool2D(try a.input(0), attributes: window, max: true)] }
}

extension AveragePool2D: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try pool2D(try a.input(0), attributes: window, max: false)] }
}

extension GlobalAveragePool: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try globalPool(try a.input(0), max: false)] }
}

extension GlobalMaxPool: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try globalPool(try a.input(0), max: true)] }
}
