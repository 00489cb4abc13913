import TensorCore

extension Recurrent: FloatKernel {
    /// `Kernels/Recurrent.swift`: `[y, h]`, plus `c` for an LSTM.
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        let mask = masked == nil ? nil : try a.input(3)
        let result = try recurrent(
            self, x: try a.input(0), w: try a.input(1), r: try a.input(2), mask: mask, bias: a.optional(firstBias), recurrentBias: a.optional(firstBias + 1))
        let y = try mask.map { try maskedOutput(result.y, mask: $0) } ?? result.y
        return [y, result.h] + (result.c.map { [$0] } ?? [])
    }

    /// What the layer writes at its steps: the state sequence `y` N×L×H as it stands, or with
    /// the steps the mask N×L skips zeroed (`masked == .zero`).
    public func maskedOutput(_ y: Tensor, mask: Tensor) throws -> Tensor {
        guard masked == .zero else { return y }
        var out = y
        let (n, steps) = (y.shape[0], y.shape[1])
        out.storage.withUnsafeMutableBufferPointer { op in
            for row in 0..<n {
                for t in 0..<steps where mask.storage[row * steps + t] == 0 {
                    (op.baseAddress! + (row * steps + t) * units).update(repeating: 0, count: units)
                }
            }
        }
        return out
    }
}
