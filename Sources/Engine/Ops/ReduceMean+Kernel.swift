import TensorCore

extension ReduceMean: FloatKernel {
    /// The sum over the reduced axes (the adjoint of broadcasting, `sumToShape`), scaled by 1/n.
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        let x = try a.input(0)
        var y = try sumToShape(x, keptShape(x.shape))
        let scale = 1 / Float(max(1, x.count / max(1, y.count)))
        y.storage.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] *= scale }
        }
        return [try y.reshaped(outputShape(x.shape))]
    }
}
