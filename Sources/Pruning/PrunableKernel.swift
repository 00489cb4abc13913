import TensorCore

/// A Dense, Conv or recurrent weight that pruning may touch, viewed as `[outer, inputs, inner]`
/// so that the input dimension has stride `inner`: Dense `K×M` is `[1, K, M]`, Conv OIHW is
/// `[O, I, H·W]`, a recurrent layer's `W` (C×G·H) and `R` (H×G·H) are `[1, rows, G·H]`.
public struct PrunableKernel: Equatable, Sendable {
    /// The IR node that reads the weight.
    public var node: String
    /// The source model's layer name.
    public var layer: String
    /// `Linear`, `Conv`, or `LSTM` / `GRU` / `RNN` (`W`) and `… R` (the recurrent kernel).
    public var op: String
    /// The initializer's name.
    public var weight: String
    /// The initializer's shape.
    public var shape: [Int]
    /// Product of the dimensions before the input dimension.
    public var outer: Int
    /// The input dimension (Dense K, Conv I).
    public var inputs: Int
    /// Product of the dimensions after the input dimension.
    public var inner: Int

    /// Number of weights.
    public var count: Int { outer * inputs * inner }
}

/// A Dense/Conv node whose kernel is never pruned, and why.
public struct UnprunableKernel: Equatable, Sendable {
    /// The IR node.
    public var node: String
    /// Its layer.
    public var layer: String
    /// `Linear` or `Conv`.
    public var op: String
    /// The weight's initializer, when it is one (else empty).
    public var weight = ""
    /// The weight values when it is an initializer (for the report), else empty.
    public var weights: [Float] = []
    /// The weight's shape when it is an initializer, else empty.
    public var shape: [Int] = []
    /// Why it is left dense.
    public var reason: String
}

extension PrunableKernel {
    /// The candidates of `graph` in node order, and the Dense/Conv nodes that are never pruned
    /// (grouped or depthwise convs, weights that are not initializers or are shared).
    /// Biases and BatchNorm parameters are never candidates.
    public static func candidates(in graph: Graph) -> (kernels: [PrunableKernel], unprunable: [UnprunableKernel]) {
        var kernels: [PrunableKernel] = []
        var unprunable: [UnprunableKernel] = []
        var seen: Set<String> = []
        for node in graph.nodes {
            if case .recurrent(let op) = node.op {
                // Both kernels, each K×G·H with its input rows first; biases are never candidates.
                for (slot, suffix) in [(1, ""), (2, " R")] {
                    let name = node.inputs[slot]
                    guard let w = graph.initializers[name], w.rank == 2, seen.insert(name).inserted else { continue }
                    kernels.append(.init(node: node.name, layer: node.layer, op: op.name + suffix, weight: name, shape: w.shape, outer: 1, inputs: w.shape[0], inner: w.shape[1]))
                }
                continue
            }
            // Weight-bearing ops (Conv, Linear): the quantization role names them.
            guard node.computeOperands != nil else { continue }
            var isConv = false
            if case .conv2D(let attributes) = node.op {
                guard attributes.group == 1 else {
                    let w = node.inputs.count >= 2 ? graph.initializers[node.inputs[1]] : nil
                    unprunable.append(
                        .init(
                            node: node.name, layer: node.layer, op: "Conv", weight: w == nil ? "" : node.inputs[1], weights: w?.storage ?? [], shape: w?.shape ?? [],
                            reason: "grouped/depthwise conv (group \(attributes.group)): few weights per channel, left dense"))
                    continue
                }
                isConv = true
            }
            guard node.inputs.count >= 2, let tensor = graph.initializers[node.inputs[1]] else {
                unprunable.append(.init(node: node.name, layer: node.layer, op: isConv ? "Conv" : "Linear", reason: "weight is not a constant initializer"))
                continue
            }
            let name = node.inputs[1]
            guard !seen.contains(name) else {
                unprunable.append(.init(node: node.name, layer: node.layer, op: isConv ? "Conv" : "Linear", reason: "weight '\(name)' is shared with an earlier node"))
                continue
            }
            seen.insert(name)
            let s = tensor.shape
            if isConv, s.count == 4 {
                kernels.append(
                    .init(
                        node: node.name, layer: node.layer, op: "Conv", weight: name, shape: s,
                        outer: s[0], inputs: s[1], inner: s[2] * s[3]))
            } else if !isConv, s.count == 2 {
                kernels.append(
                    .init(
                        node: node.name, layer: node.layer, op: "Linear", weight: name, shape: s,
                        outer: 1, inputs: s[0], inner: s[1]))
            } else {
                unprunable.append(.init(node: node.name, layer: node.layer, op: isConv ? "Conv" : "Linear", reason: "weight of unexpected shape \(s)"))
            }
        }
        return (kernels, unprunable)
    }
}
