import TensorCore

extension Recurrent: FloatKernel {
    /// `Kernels/Recurrent.swift`: `[y, h]`, plus `c` for an LSTM.
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        let result = try recurrent(self, x: try a.input(0), w: try a.input(1), r: try a.input(2), bias: a.optional(3), recurrentBias: a.optional(4))
        return [result.y, result.h] + (result.c.map { [$0] } ?? [])
    }
}
