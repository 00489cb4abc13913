import Engine
import TensorCore
import Testing
import _TestSupport

/// Convolutions that run the Add and activation reading them in their epilogue give the
/// values the nodes give one by one (an observer turns fusion off) and the naive definitions.
@Suite("Fused convolution epilogues")
struct ConvFusionTests {
    static let same3x3 = Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1))
    static let depthwise = Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1), group: 4)

    /// x[N,4,6,5] → conv 3×3 → relu → conv 3×3 → add x → relu → depthwise 3×3 → clip(0, 6)
    /// → add (depthwise output read twice: not fused) → output; a residual block as ResNet and
    /// MobileNet write it.
    static func residualBlock() throws -> (Graph, [String: Tensor]) {
        var generator = SeededGenerator(seed: 31)
        var g = Graph(name: "block")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 4, 6, 5]))
        var weights: [String: Tensor] = [:]
        for (name, shape) in [("w1", [4, 4, 3, 3]), ("b1", [4]), ("w2", [4, 4, 3, 3]), ("b2", [4]), ("wd", [4, 1, 3, 3]), ("bd", [4])] {
            weights[name] = randomTensor(shape, in: -2...2, &generator)
            try g.addInitializer(name, weights[name]!)
        }
        try g.append(Node(name: "conv1", op: .conv2D(same3x3), inputs: ["x", "w1", "b1"], output: "c1"))
        try g.append(Node(name: "relu1", op: .activation(.relu), inputs: ["c1"], output: "r1"))
        try g.append(Node(name: "conv2", op: .conv2D(same3x3), inputs: ["r1", "w2", "b2"], output: "c2"))
        try g.append(Node(name: "add", op: .elementwise(.add), inputs: ["c2", "x"], output: "s"))
        try g.append(Node(name: "relu2", op: .activation(.relu), inputs: ["s"], output: "r2"))
        try g.append(Node(name: "dw", op: .conv2D(depthwise), inputs: ["r2", "wd", "bd"], output: "d"))
        try g.append(Node(name: "relu6", op: .activation(.clip(min: 0, max: 6)), inputs: ["d"], output: "d6"))
        try g.append(Node(name: "twice", op: .elementwise(.add), inputs: ["d6", "d6"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: try #require(g.shapes["y"]))]
        return (g, weights)
    }

    @Test("fused run = node-by-node run (bit for bit) ≈ naive definitions")
    func fusedEqualsUnfused() throws {
        let (graph, w) = try Self.residualBlock()
        var generator = SeededGenerator(seed: 5)
        let x = randomTensor([3, 4, 6, 5], &generator)
        let executor = Executor(graph: graph)
        #expect(executor.fusedNodes == ["relu1", "add", "relu2", "relu6"])
        let fused = try executor.run(x)
        var seen: [String] = []
        let unfused = try executor.run(x, observe: { name, _ in seen.append(name) })
        #expect(seen == ["x", "c1", "r1", "c2", "s", "r2", "d", "d6", "y"])
        #expect(fused == unfused)

        func relu(_ t: Tensor) -> Tensor { applyActivation(.relu, t) }
        let r1 = relu(try NaiveKernels.conv2D(x, weights: w["w1"]!, bias: w["b1"], attributes: Self.same3x3))
        let c2 = try NaiveKernels.conv2D(r1, weights: w["w2"]!, bias: w["b2"], attributes: Self.same3x3)
        let r2 = relu(try Tensor(shape: c2.shape, storage: zip(c2.storage, x.storage).map { $0 + $1 }))
        let d6 = applyActivation(.clip(min: 0, max: 6), try NaiveKernels.conv2D(r2, weights: w["wd"]!, bias: w["bd"], attributes: Self.depthwise))
        expectClose(fused, try Tensor(shape: d6.shape, storage: d6.storage.map { $0 + $0 }), relative: 1e-5)
    }

    @Test("a residual computed after the convolution, or of another shape, is not fused")
    func residualMustExistFirst() throws {
        var generator = SeededGenerator(seed: 9)
        var g = Graph(name: "late")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 4, 6, 5]))
        try g.addInitializer("w", randomTensor([4, 4, 3, 3], &generator))
        try g.append(Node(name: "conv", op: .conv2D(Self.same3x3), inputs: ["x", "w"], output: "c"))
        try g.append(Node(name: "late", op: .activation(.tanh), inputs: ["x"], output: "t"))
        try g.append(Node(name: "add", op: .elementwise(.add), inputs: ["c", "t"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: try #require(g.shapes["y"]))]
        let x = randomTensor([2, 4, 6, 5], &generator)
        let executor = Executor(graph: g)
        #expect(executor.fusedNodes.isEmpty)
        let conv = try conv2D(x, weights: g.initializers["w"]!, bias: nil, attributes: Self.same3x3)
        let t = applyActivation(.tanh, x)
        #expect(try executor.run(x) == Tensor(shape: conv.shape, storage: zip(conv.storage, t.storage).map { $0 + $1 }))
    }
}
