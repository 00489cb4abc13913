import TensorCore

/// A convolution that also computes the nodes reading its output: an elementwise Add of a
/// residual, then an activation, in the kernel's epilogue (one pass over the output instead
/// of one pass per node). The executor runs it when no observer needs the values in between.
struct ConvFusion: Sendable {
    /// The other input of the absorbed Add (the convolution's output shape), or nil.
    let residual: String?
    /// The absorbed activation, or nil.
    let activation: Activation?
    /// The last absorbed node's output: the name the fused result is stored under.
    let output: String
    /// The absorbed nodes' indices.
    let absorbed: [Int]
}

extension Graph {
    /// For each node index, the fusion the node leads (a convolution), if any. A node's output
    /// is absorbed only when that node is its sole reader, and it is not a graph output, not
    /// quantized and not held in float16 (the executor stores no value in between). A residual
    /// must be computed before the convolution runs and have its exact shape.
    func convFusions() -> [ConvFusion?] {
        var readers: [String: [Int]] = [:], producer: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for input in node.inputs { readers[input, default: []].append(index) }
            for output in node.outputs { producer[output] = index }
        }
        let graphOutputs = Set(outputs.map(\.name))
        func soleReader(_ value: String) -> Int? {
            guard let r = readers[value], r.count == 1, !graphOutputs.contains(value), quantization[value] == nil,
                !halfPrecision.contains(value), nodes[r[0]].outputs.count == 1
            else { return nil }
            return r[0]
        }
        return nodes.enumerated().map { index, node in
            guard case .conv2D = node.op, node.outputs.count == 1, halfPrecision.isEmpty else { return nil }
            var value = node.outputs[0], residual: String?, activation: Activation?, absorbed: [Int] = []
            if let j = soleReader(value), case .elementwise(.add) = nodes[j].op, nodes[j].inputs.count == 2,
                let other = nodes[j].inputs.first(where: { $0 != value }), initializers[other] == nil,
                shapes[other] != nil, shapes[other] == shapes[value], (producer[other] ?? -1) < index
            {
                residual = other
                absorbed.append(j)
                value = nodes[j].outputs[0]
            }
            if let j = soleReader(value), case .activation(let f) = nodes[j].op {
                activation = f
                absorbed.append(j)
                value = nodes[j].outputs[0]
            }
            return absorbed.isEmpty ? nil : ConvFusion(residual: residual, activation: activation, output: value, absorbed: absorbed)
        }
    }
}
