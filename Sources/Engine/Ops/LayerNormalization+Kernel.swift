import TensorCore

extension LayerNormalization: FloatKernel {
    /// In place on input 0 (`Kernels/LayerNormalization.swift`).
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        var x = try a.take(0)
        try layerNormalization(&x, scale: try a.input(1), offset: a.optional(2), axis: axis, epsilon: epsilon)
        return [x]
    }
}
