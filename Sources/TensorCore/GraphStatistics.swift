/// Size and cost of one node: parameters it owns, their bytes, and multiply-accumulates per sample.
public struct NodeStatistics: Equatable, Sendable {
    /// The node described.
    public var node: String
    /// Source layer name.
    public var layer: String
    /// Op name for tables.
    public var op: String
    /// Output shape (batch first, `-1` dynamic).
    public var outputShape: [Int]
    /// Weight elements read by this node (initializers).
    public var parameters: Int
    /// Fraction of those weights that are exactly zero (0 when the node has none).
    public var sparsity: Double
    /// Bits per element of the node's main weight (32 for float, 8 when quantized).
    public var bits: Int
    /// Bytes of those weights as stored (float32: 4 per element; quantized: their bits).
    public var bytes: Int
    /// Multiply-accumulates for one sample, as the op's definition counts them.
    public var macs: Int
}

extension Graph {
    /// Per-node statistics, in node order.
    public func statistics() -> [NodeStatistics] {
        nodes.map { node in
            let weights = node.inputs.compactMap { name in initializers[name].map { (name, $0) } }
            let params = weights.reduce(0) { $0 + $1.1.count }
            let zeros = weights.reduce(0) { sum, w in sum + w.1.storage.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }
            let bytes = weights.reduce(0) { sum, w in sum + w.1.count * storedBits(of: w.0) / 8 }
            let bits = weights.first.map { storedBits(of: $0.0) } ?? 32
            let out = shapes[node.output] ?? []
            let macs = node.op.definition.macs(inputs: node.inputs.map { shapes[$0] ?? [] }, outputs: node.outputs.map { shapes[$0] ?? [] })
            return NodeStatistics(
                node: node.name, layer: node.layer, op: node.op.name, outputShape: out,
                parameters: params, sparsity: params == 0 ? 0 : Double(zeros) / Double(params),
                bits: bits, bytes: bytes, macs: macs)
        }
    }
}

extension Graph {
    /// Bits per element the file stores initializer `name` in: its quantized type's, 16 when
    /// held in float16, else 32.
    public func storedBits(of name: String) -> Int {
        quantization[name]?.bits ?? (halfPrecision.contains(name) ? 16 : 32)
    }
}
