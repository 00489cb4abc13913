import TensorCore
import Testing
import Training
import _TestSupport

/// Finite-difference checks of the ops added with the op-definition refactor.
@Suite struct NewOpGradientTests {
    @Test(arguments: [1, 2, 3])
    func layerNormalization(_ axis: Int) throws {
        var generator = SeededGenerator(seed: 3)
        let shape = [2, 3, 2, 4]
        let trailing = Array(shape[axis...])
        let op = Op.layerNormalization(LayerNormalization(axis: axis, epsilon: 1e-3))
        let graph = try singleNodeGraph(
            op, inputShape: shape,
            weights: [
                ("gamma", randomTensor(trailing, &generator)),
                ("beta", randomTensor(trailing, &generator)),
            ])
        try checkGradients(graph, input: randomTensor(shape, in: -2...2, &generator), h: 1e-2, tolerance: 2e-3)
    }

    @Test func splitGradientsMeetAgain() throws {
        var generator = SeededGenerator(seed: 4)
        var g = Graph(name: "split")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 6]))
        try g.addInitializer("w", randomTensor([2, 3], &generator))
        try g.append(Node(name: "s", op: .split(Split(axis: 1, sizes: [2, 4])), inputs: ["x"], outputs: ["a", "b"]))
        try g.append(Node(name: "d", op: .linear, inputs: ["a", "w"], output: "d"))
        try g.append(Node(name: "j", op: .concat(axis: 1), inputs: ["d", "b"], output: "out"))
        g.outputs = [ValueInfo(name: "out", shape: g.shapes["out"]!)]
        try checkGradients(g, input: randomTensor([3, 6], &generator))
    }
}
