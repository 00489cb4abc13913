import TensorCore

extension Embedding: FloatKernel {
    public func run(_ a: inout KernelArguments) throws -> [Tensor] { [try embedding(try a.input(0), table: try a.input(1))] }
}

/// Row lookup: `ids` N×… (whole numbers), `table` V×D row-major → N×…×D, output row `i` a copy
/// of table row `ids[i]`. Throws `Embedding.IdOutOfRange` for an id outside `0..<V`.
public func embedding(_ ids: Tensor, table: Tensor) throws -> Tensor {
    let (vocabulary, width) = (table.shape[0], table.shape[1])
    var y = try Tensor(shape: ids.shape + [width])
    try ids.storage.withUnsafeBufferPointer { ip in
        try table.storage.withUnsafeBufferPointer { tp in
            try y.storage.withUnsafeMutableBufferPointer { yp in
                for (i, id) in ip.enumerated() {
                    guard id >= 0, id < Float(vocabulary), id.rounded(.towardZero) == id else {
                        throw Embedding.IdOutOfRange(id: id, position: i, vocabulary: vocabulary)
                    }
                    (yp.baseAddress! + i * width).update(from: tp.baseAddress! + Int(id) * width, count: width)
                }
            }
        }
    }
    return y
}
