import TensorCore

/// Small IR graphs with known weights for the pruning tests.
enum SmallGraphs {
    /// x [N,8] → fc1 (Linear 8×12 + bias) → fc2 (Linear 12×3); weights 1…n with alternating signs.
    static func mlp() throws -> Graph {
        var g = Graph(name: "mlp")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 8]))
        try g.addInitializer("w1", ramp([8, 12]))
        try g.addInitializer("b1", Tensor(shape: [12], repeating: 0.001))
        try g.addInitializer("w2", ramp([12, 3]))
        try g.append(Node(name: "fc1/linear", op: .linear, inputs: ["x", "w1", "b1"], output: "h", layer: "fc1"))
        try g.append(Node(name: "fc2/linear", op: .linear, inputs: ["h", "w2"], output: "y", layer: "fc2"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 3])]
        return g
    }

    /// A tensor of `shape` holding 1, −2, 3, −4, … (distinct magnitudes, alternating signs).
    static func ramp(_ shape: [Int]) throws -> Tensor {
        let n = shape.reduce(1, *)
        return try Tensor(shape: shape, storage: (0..<n).map { Float($0 + 1) * ($0 % 2 == 0 ? 1 : -1) })
    }
}
