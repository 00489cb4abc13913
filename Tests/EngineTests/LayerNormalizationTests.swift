import Engine
import TensorCore
import Testing
import _TestSupport

/// The fast layer-normalization kernel against `NaiveKernels.layerNormalization` (a different
/// formula: E[x²] − E[x]²), and a hand-worked row.
@Suite("layerNormalization matches its definition")
struct LayerNormalizationTests {
    @Test(arguments: [([2, 3, 4, 5], 3), ([2, 3, 4, 5], 1), ([3, 7], 1), ([2, 4, 6], 2)])
    func matchesNaive(_ shape: [Int], _ axis: Int) throws {
        var generator = SeededGenerator(seed: 5)
        let x = randomTensor(shape, in: -3...3, &generator)
        let trailing = Array(shape[axis...])
        let scale = randomTensor(trailing, &generator), offset = randomTensor(trailing, &generator)
        var fast = x
        try layerNormalization(&fast, scale: scale, offset: offset, axis: axis, epsilon: 1e-3)
        let naive = try NaiveKernels.layerNormalization(x, scale: scale, offset: offset, axis: axis, epsilon: 1e-3)
        expectClose(fast, naive, relative: 1e-5, absolute: 1e-5)
    }

    @Test func handWorkedRow() throws {
        // Row [1, 2, 3]: mean 2, variance 2/3; ε = 0 → (x − 2)/√(2/3) = [−1.2247, 0, 1.2247].
        var x = try Tensor(shape: [1, 3], storage: [1, 2, 3])
        try layerNormalization(&x, scale: try Tensor(shape: [3], storage: [1, 2, 1]), offset: try Tensor(shape: [3], storage: [0, 0, 1]), axis: 1, epsilon: 0)
        expectClose(x, try Tensor(shape: [1, 3], storage: [-1.2247449, 0, 2.2247449]), relative: 1e-6, absolute: 1e-6)
    }

    /// Split: three outputs that are crops of the input, run through the executor.
    @Test func splitRunsAsThreeOutputs() throws {
        var g = Graph(name: "split")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 6, 2]))
        try g.append(Node(name: "s", op: .split(Split(axis: 1, sizes: [1, 2, 3])), inputs: ["x"], outputs: ["a", "b", "c"]))
        try g.append(Node(name: "sum", op: .concat(axis: 1), inputs: ["c", "a", "b"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: g.shapes["y"]!), ValueInfo(name: "b", shape: g.shapes["b"]!)]
        try g.verify()
        let x = try Tensor(shape: [1, 6, 2], storage: (0..<12).map(Float.init))
        let out = try Executor(graph: g).run(["x": x])
        #expect(out[0].storage == [6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5])
        #expect(out[1].storage == [2, 3, 4, 5])
    }
}
