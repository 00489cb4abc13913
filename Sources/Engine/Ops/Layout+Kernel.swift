import TensorCore

extension Flatten: FloatKernel {
    /// A view: same storage, new shape.
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        let x = try a.take(0)
        return [try x.reshaped([x.shape[0], x.count / max(1, x.shape[0])])]
    }
}

extension Reshape: FloatKernel {
    /// A view: same storage, new shape.
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        let x = try a.take(0)
        return [try x.reshaped([x.shape[0]] + shape)]
    }
}

extension Transpose: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try transpose(try a.input(0), perm: perm)] }
}

extension Identity: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try a.take(0)] }
}
