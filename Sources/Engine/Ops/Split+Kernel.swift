import TensorCore

extension Split: FloatKernel {
    /// One crop per part.
    public func run(_ a: inout KernelArguments) throws -> [Tensor] {
        let x = try a.input(0)
        var begin = [Int](repeating: 0, count: x.rank)
        var outputs: [Tensor] = []
        for size in sizes {
            var end = x.shape
            end[axis] = begin[axis] + size
            outputs.append(try slice(x, begin: begin, end: end))
            begin[axis] += size
        }
        return outputs
    }
}
