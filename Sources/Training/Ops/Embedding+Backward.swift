import TensorCore

extension Embedding: Differentiable {
    /// The table's gradient: each output row's gradient added to the row it was read from; ids
    /// have none.
    func backward(_ s: BackwardStep) throws -> [Tensor?] {
        let ids = try s.value(0), table = try s.value(1), dy = try s.dy
        let width = table.shape[1]
        var dtable = try Tensor(shape: table.shape)
        dy.storage.withUnsafeBufferPointer { gp in
            dtable.storage.withUnsafeMutableBufferPointer { tp in
                for (i, id) in ids.storage.enumerated() {
                    let row = tp.baseAddress! + Int(id) * width, g = gp.baseAddress! + i * width
                    for j in 0..<width { row[j] += g[j] }
                }
            }
        }
        return [nil, dtable]
    }
}
