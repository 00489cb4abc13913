import Engine
import TensorCore
import Testing
import _TestSupport

/// A hand-built graph run through `Executor` against the same kernels composed by hand and
/// against the naive definitions.
@Suite("Executor runs a graph as its kernels composed")
struct ExecutorTests {
    static let convAttributes = Conv2DAttributes(kernel: Size2D(3, 3), strides: .one, pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1))

    /// x[N,2,6,5] → conv 3×3 (3 filters) → relu → global average pool → flatten → linear (3→4) → softmax.
    struct TinyModel {
        let graph: Graph
        let w: Tensor, b: Tensor, fw: Tensor, fb: Tensor

        init() throws {
            var generator = SeededGenerator(seed: 2024)
            w = randomTensor([3, 2, 3, 3], &generator)
            b = randomTensor([3], &generator)
            fw = randomTensor([3, 4], in: -3...3, &generator)
            fb = randomTensor([4], &generator)
            var g = Graph(name: "tiny")
            try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2, 6, 5]))
            for (name, t) in [("w", w), ("b", b), ("fw", fw), ("fb", fb)] { try g.addInitializer(name, t) }
            try g.append(Node(name: "conv", op: .conv2D(ExecutorTests.convAttributes), inputs: ["x", "w", "b"], output: "c"))
            try g.append(Node(name: "relu", op: .activation(.relu), inputs: ["c"], output: "r"))
            try g.append(Node(name: "pool", op: .globalAveragePool, inputs: ["r"], output: "p"))
            try g.append(Node(name: "flatten", op: .flatten, inputs: ["p"], output: "f"))
            try g.append(Node(name: "dense", op: .linear, inputs: ["f", "fw", "fb"], output: "logits"))
            try g.append(Node(name: "softmax", op: .softmax(axis: 1), inputs: ["logits"], output: "probs"))
            g.outputs = [ValueInfo(name: "probs", shape: try #require(g.shapes["probs"]))]
            graph = g
        }
    }

    @Test("graph output = the kernels composed by hand (bit for bit) ≈ the naive composition")
    func matchesComposition() throws {
        let model = try TinyModel()
        var generator = SeededGenerator(seed: 7)
        let x = randomTensor([4, 2, 6, 5], &generator)
        let executor = Executor(graph: model.graph)
        let ours = try executor.run(x)

        let conv = try conv2D(x, weights: model.w, bias: model.b, attributes: Self.convAttributes)
        let pooled = try globalPool(applyActivation(.relu, conv), max: false)
        let logits = try linear(try pooled.reshaped([4, 3]), weights: model.fw, bias: model.fb)
        #expect(ours == softmax(logits, axis: 1))

        // Naive: definition conv, relu by max, mean in Double, definition matmul, Double softmax.
        let naiveConv = try NaiveKernels.conv2D(x, weights: model.w, bias: model.b, attributes: Self.convAttributes)
        let plane = 6 * 5
        let means = (0..<12).map { p in
            Float((0..<plane).reduce(0.0) { $0 + Double(max(naiveConv.storage[p * plane + $1], 0)) } / Double(plane))
        }
        let naiveLogits = try NaiveKernels.linear(try Tensor(shape: [4, 3], storage: means), weights: model.fw, bias: model.fb)
        expectClose(ours, softmaxReference(naiveLogits, axis: 1), relative: 1e-5)

        // Initializers survive a run: a second run gives the same answer.
        #expect(try executor.run(x) == ours)
        // A batch of one works and equals the first row.
        let first = try Tensor(shape: [1, 2, 6, 5], storage: Array(x.storage[0..<60]))
        expectClose(try executor.run(first), try Tensor(shape: [1, 4], storage: Array(ours.storage[0..<4])), relative: 1e-6)
    }

    @Test("inputs of the wrong per-sample shape, rank or name throw")
    func wrongInputThrows() throws {
        let executor = Executor(graph: try TinyModel().graph)
        #expect(throws: ModelPressError.self) { try executor.run(try Tensor(shape: [2, 2, 5, 6])) }
        #expect(throws: ModelPressError.self) { try executor.run(try Tensor(shape: [2, 3, 6, 5])) }
        #expect(throws: ModelPressError.self) { try executor.run(try Tensor(shape: [2, 2, 30])) }
        #expect(throws: ModelPressError.self) { try executor.run(["y": try Tensor(shape: [2, 2, 6, 5])]) }
    }
}
