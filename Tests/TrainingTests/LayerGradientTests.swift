import TensorCore
import Testing
import Training
import _TestSupport

/// Finite-difference checks of the backward kernels with weights: Dense, Conv2D (plain,
/// strided/padded/dilated, grouped, depthwise), BatchNormalization (batch statistics and frozen), PReLU.
@Suite struct LayerGradientTests {
    @Test func linear() throws {
        let g = try singleNodeGraph(.linear, inputShape: [3, 5], weights: [("w", random([5, 4], seed: 1)), ("b", random([4], seed: 2))])
        try checkGradients(g, input: random([3, 5], seed: 3))
    }

    @Test func linearOnRank3() throws {
        let g = try singleNodeGraph(.linear, inputShape: [2, 3, 5], weights: [("w", random([5, 4], seed: 1)), ("b", random([4], seed: 2))])
        try checkGradients(g, input: random([2, 3, 5], seed: 3))
    }

    @Test(arguments: [
        Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1)),
        Conv2DAttributes(kernel: Size2D(3, 2), strides: Size2D(2, 1), dilations: Size2D(1, 2), pads: Padding2D(top: 2, left: 0, bottom: 1, right: 1)),
        Conv2DAttributes(kernel: .one),
        Conv2DAttributes(kernel: Size2D(3, 3), strides: Size2D(2, 2), pads: Padding2D(top: 0, left: 1, bottom: 1, right: 0), group: 2),
    ])
    func conv2D(_ a: Conv2DAttributes) throws {
        let weights = [("w", random([4, 4 / a.group, a.kernel.height, a.kernel.width], seed: 1)), ("b", random([4], seed: 2))]
        let g = try singleNodeGraph(.conv2D(a), inputShape: [2, 4, 6, 5], weights: weights)
        try checkGradients(g, input: random([2, 4, 6, 5], seed: 3))
    }

    @Test func depthwiseConv2DWithMultiplier() throws {
        let a = Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1), group: 3)
        let g = try singleNodeGraph(.conv2D(a), inputShape: [2, 3, 5, 5], weights: [("w", random([6, 1, 3, 3], seed: 1))])
        try checkGradients(g, input: random([2, 3, 5, 5], seed: 3))
    }

    @Test func separableConv2D() throws {
        var g = Graph(name: "separable")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 3, 5, 5]))
        try g.addInitializer("dw", random([3, 1, 3, 3], seed: 1))
        try g.addInitializer("pw", random([4, 3, 1, 1], seed: 2))
        try g.addInitializer("b", random([4], seed: 4))
        try g.append(Node(name: "dw", op: .conv2D(Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1), group: 3)), inputs: ["x", "dw"], output: "d"))
        try g.append(Node(name: "pw", op: .conv2D(Conv2DAttributes(kernel: .one)), inputs: ["d", "pw", "b"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: g.shapes["y"] ?? [])]
        try checkGradients(g, input: random([2, 3, 5, 5], seed: 3))
    }

    func batchNormGraph(channels: Int, inputShape: [Int]) throws -> Graph {
        var variance = random([channels], seed: 13)
        variance.storage = variance.storage.map { abs($0) + 0.5 }
        return try singleNodeGraph(
            .batchNormalization(epsilon: 1e-3), inputShape: inputShape,
            weights: [
                ("gamma", random([channels], seed: 10)), ("beta", random([channels], seed: 11)),
                ("mean", random([channels], seed: 12)), ("variance", variance),
            ])
    }

    @Test func batchNormalizationWithBatchStatistics() throws {
        try checkGradients(try batchNormGraph(channels: 3, inputShape: [4, 3, 2, 2]), input: random([4, 3, 2, 2], seed: 3))
        try checkGradients(try batchNormGraph(channels: 5, inputShape: [6, 5]), input: random([6, 5], seed: 4))
    }

    @Test func batchNormalizationFrozen() throws {
        try checkGradients(try batchNormGraph(channels: 3, inputShape: [4, 3, 2, 2]), input: random([4, 3, 2, 2], seed: 3), batchNorm: .frozen)
    }

    @Test func batchNormalizationUpdatesRunningAveragesWithKerasMomentum() throws {
        let graph = try batchNormGraph(channels: 2, inputShape: [3, 2])
        let model = try TrainableModel(graph: graph)
        #expect(model.parameters == ["gamma", "beta"])
        let x = try Tensor(shape: [3, 2], storage: [1, 10, 2, 20, 6, 30])
        var random = TrainingRandom(seed: 1)
        let tape = try GradientTape.forward(model, input: x, training: true, random: &random)
        let oldMean = try #require(graph.initializers["mean"]), oldVariance = try #require(graph.initializers["variance"])
        // batch mean (3, 20), biased batch variance (14/3, 200/3)
        let updates = Dictionary(uniqueKeysWithValues: tape.statisticUpdates.map { ($0.0, $0.1) })
        let mean = try #require(updates["mean"]), variance = try #require(updates["variance"])
        #expect(abs(mean.storage[0] - (oldMean.storage[0] * 0.99 + 3 * 0.01)) < 1e-6)
        #expect(abs(mean.storage[1] - (oldMean.storage[1] * 0.99 + 20 * 0.01)) < 1e-5)
        #expect(abs(variance.storage[0] - (oldVariance.storage[0] * 0.99 + 14.0 / 3 * 0.01)) < 1e-5)
        #expect(abs(variance.storage[1] - (oldVariance.storage[1] * 0.99 + 200.0 / 3 * 0.01)) < 1e-4)
    }

    @Test func prelu() throws {
        let g = try singleNodeGraph(.prelu, inputShape: [2, 3, 2, 2], weights: [("slope", random([3, 1, 1], seed: 1))])
        try checkGradients(g, input: try awayFromKinks([2, 3, 2, 2], kinks: [0]))
    }
}
