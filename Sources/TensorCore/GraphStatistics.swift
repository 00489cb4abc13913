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
    /// Bytes of those weights as stored (float32: 4 per element).
    public var bytes: Int
    /// Multiply-accumulates for one sample (convolutions and matrix products only).
    public var macs: Int
}

extension Graph {
    /// Per-node statistics, in node order.
    public func statistics() -> [NodeStatistics] {
        nodes.map { node in
            let params = node.inputs.reduce(0) { sum, name in sum + (initializers[name]?.count ?? 0) }
            let out = shapes[node.output] ?? []
            let perSample = Checked.product(out.dropFirst()) ?? 0
            var macs = 0
            switch node.op {
            case .conv2D(let a):
                if let w = shapes[node.inputs[1]], w.count == 4 {
                    macs = Checked.product([perSample, w[1], a.kernel[0], a.kernel[1]]) ?? 0
                }
            case .linear:
                if let w = shapes[node.inputs[1]], w.count == 2 { macs = Checked.multiply(perSample, w[0]) ?? 0 }
            default:
                break
            }
            return NodeStatistics(node: node.name, layer: node.layer, op: node.op.name, outputShape: out,
                                  parameters: params, bytes: params * MemoryLayout<Float>.size, macs: macs)
        }
    }
}
