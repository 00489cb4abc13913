import Foundation
import ModelIO
import ModelLoading
import TensorCore
import Testing
import Training
import _TestSupport

/// Finite-difference checks of pooling, shape ops, elementwise merges, concat, pad/slice and dropout.
@Suite struct LayoutGradientTests {
    @Test(arguments: [
        Pool2DAttributes(kernel: Size2D(2, 2), strides: Size2D(2, 2)),
        Pool2DAttributes(kernel: Size2D(3, 3), strides: Size2D(2, 2), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1)),
        Pool2DAttributes(kernel: Size2D(2, 3), strides: Size2D(1, 2), pads: Padding2D(top: 0, left: 1, bottom: 1, right: 0)),
    ])
    func pooling(_ a: Pool2DAttributes) throws {
        try checkGradients(try singleNodeGraph(.maxPool2D(a), inputShape: [2, 2, 5, 6]), input: try distinctValues([2, 2, 5, 6]), h: 1e-2)
        try checkGradients(try singleNodeGraph(.averagePool2D(a), inputShape: [2, 2, 5, 6]), input: random([2, 2, 5, 6], seed: 4))
    }

    @Test func globalPooling() throws {
        try checkGradients(try singleNodeGraph(.globalAveragePool, inputShape: [2, 3, 4, 4]), input: random([2, 3, 4, 4], seed: 1))
        try checkGradients(try singleNodeGraph(.globalMaxPool, inputShape: [2, 3, 4, 4]), input: try distinctValues([2, 3, 4, 4]))
    }

    @Test func flattenReshapeTranspose() throws {
        try checkGradients(try singleNodeGraph(.flatten, inputShape: [2, 3, 2, 2]), input: random([2, 3, 2, 2], seed: 1))
        try checkGradients(try singleNodeGraph(.reshape([4, 3]), inputShape: [2, 3, 2, 2]), input: random([2, 3, 2, 2], seed: 2))
        try checkGradients(try singleNodeGraph(.transpose([0, 2, 3, 1]), inputShape: [2, 3, 2, 4]), input: random([2, 3, 2, 4], seed: 3))
    }

    @Test(arguments: [ElementwiseOp.add, .subtract, .multiply, .mean, .divide])
    func elementwiseWithBroadcast(_ kind: ElementwiseOp) throws {
        var other = random([3, 1, 4], seed: 7)
        if kind == .divide { other.storage = other.storage.map { $0 >= 0 ? $0 + 1 : $0 - 1 } }
        // The second operand is an activation (x·1) so its gradient is checked through the input too.
        var g = Graph(name: "merge")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 3, 2, 4]))
        try g.addInitializer("c", other)
        try g.addInitializer("w", random([4, 4], seed: 8))
        try g.append(Node(name: "lin", op: .linear, inputs: ["x", "w"], output: "l"))
        // Divide gets a denominator bounded away from zero: exp(l).
        try g.append(
            Node(
                name: "exp", op: .activation(kind == .divide ? .exponential : .thresholdedLinear(threshold: -.infinity, negativeSlope: 0, maxValue: nil)),
                inputs: ["l"], output: "e"))
        try g.append(Node(name: "merge", op: .elementwise(kind), inputs: ["x", "e"], output: "m"))
        try g.append(Node(name: "merge2", op: .elementwise(kind), inputs: ["m", "c"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: g.shapes["y"] ?? [])]
        try checkGradients(g, input: random([2, 3, 2, 4], seed: 9))
    }

    @Test(arguments: [ElementwiseOp.maximum, .minimum])
    func maximumMinimum(_ kind: ElementwiseOp) throws {
        var g = Graph(name: "select")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 6]))
        try g.addInitializer("c", try distinctValues([6], seed: 4))
        try g.append(Node(name: "sel", op: .elementwise(kind), inputs: ["x", "c"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: g.shapes["y"] ?? [])]
        // Values on a 0.1 grid shifted by 0.05 never tie with the constants (also on a 0.1 grid).
        var x = try distinctValues([3, 6], seed: 5)
        x.storage = x.storage.map { $0 + 0.05 }
        try checkGradients(g, input: x, h: 1e-2)
    }

    @Test func concatAlongChannels() throws {
        var g = Graph(name: "concat")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2, 3, 3]))
        try g.addInitializer("w", random([1, 2, 1, 1], seed: 2))
        try g.append(Node(name: "conv", op: .conv2D(Conv2DAttributes(kernel: .one)), inputs: ["x", "w"], output: "c"))
        try g.append(Node(name: "cat", op: .concat(axis: 1), inputs: ["c", "x", "c"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: g.shapes["y"] ?? [])]
        try checkGradients(g, input: random([2, 2, 3, 3], seed: 1))
    }

    @Test func zeroPaddingAndCropping() throws {
        try checkGradients(try singleNodeGraph(.pad([0, 0, 2, 1, 0, 0, 3, 2]), inputShape: [2, 2, 3, 3]), input: random([2, 2, 3, 3], seed: 1))
        try checkGradients(
            try singleNodeGraph(.slice(begin: [0, 0, 1, 0], end: [0, 2, 3, 2]), inputShape: [2, 2, 4, 3]),
            input: random([2, 2, 4, 3], seed: 2))
    }

    @Test func nearestUpsampling() throws {
        try checkGradients(try singleNodeGraph(.upsampleNearest([1, 1, 2, 3]), inputShape: [2, 2, 3, 2]), input: random([2, 2, 3, 2], seed: 1))
        try checkGradients(try singleNodeGraph(.upsampleNearest([1, 2, 1, 2]), inputShape: [2, 2, 3, 2]), input: random([2, 2, 3, 2], seed: 2))
    }

    @Test func dropoutInTrainingMode() throws {
        let g = try singleNodeGraph(.activation(.tanh), inputShape: [8, 16])
        try checkGradients(g, input: random([8, 16], seed: 1), dropout: ["y": 0.5])
        // The mask keeps about 1 − rate of the values and scales them by 1/(1 − rate).
        let model = try TrainableModel(graph: g, dropout: ["y": 0.25])
        var random = TrainingRandom(seed: 3)
        let x = try Tensor(shape: [100, 16], repeating: 1)
        let out = try GradientTape.forward(model, input: x, training: true, random: &random).output
        let kept = out.storage.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - tanhOfOne / 0.75) < 1e-6 })
        #expect(abs(Double(kept.count) / 1600 - 0.75) < 0.04)
        var again = TrainingRandom(seed: 3)
        let inference = try GradientTape.forward(model, input: x, training: false, random: &again).output
        #expect(inference.storage.allSatisfy { abs($0 - tanhOfOne) < 1e-6 })
    }

    @Test(arguments: [BatchNormMode.batchStatistics, .frozen])
    func fixtureFunctionalModelEndToEnd(_ mode: BatchNormMode) throws {
        // Conv → BN → ReLU → depthwise → BN → ReLU → 1×1 conv → BN → Add → ReLU → GAP → Dense, as
        // Keras saved it, checked along one random direction of all parameters. The ReLUs become
        // tanh: thousands of trained pre-activations sit within a step of ReLU's kink, which makes
        // finite differences (not the gradients) wrong by a few percent.
        var graph = try ModelLoader.load(Fixtures.path("models/keras3/functional.h5"))
        for i in graph.nodes.indices where graph.nodes[i].op == .activation(.relu) { graph.nodes[i].op = .activation(.tanh) }
        let model = try TrainableModel(graph: graph)
        #expect(model.strippedSoftmax != nil)
        var x = random([4, 8, 8, 1], seed: 5)
        x.storage = x.storage.map { ($0 + 1) / 2 }
        var generator = SeededGenerator(seed: 11)
        var random = TrainingRandom(seed: 77)
        let tape = try GradientTape.forward(model, input: x, training: true, batchNorm: mode, random: &random)
        let r = randomTensor(tape.output.shape, &generator)
        let grads = try GradientTape.backward(model, tape: tape, outputGradient: r, batchNorm: mode)
        let directions = model.parameters.map { name in randomTensor(model.graph.initializers[name]?.shape ?? [], &generator) }
        var analytic = 0.0
        for (g, d) in zip(grads.parameters, directions) { for (a, b) in zip(g.storage, d.storage) { analytic += Double(a) * Double(b) } }
        let h: Float = 1e-3
        func shifted(_ scale: Float) throws -> Double {
            var shiftedModel = model
            for (name, d) in zip(model.parameters, directions) {
                shiftedModel.graph.initializers[name]?.storage = zip(model.graph.initializers[name]?.storage ?? [], d.storage).map { $0 + scale * $1 }
            }
            return try projectedLoss(shiftedModel, x, r, batchNorm: mode)
        }
        let numeric = (try shifted(h) - shifted(-h)) / (2 * Double(h))
        #expect(abs(analytic - numeric) / max(abs(numeric), 1e-9) < 2e-3, "directional derivative \(analytic) vs finite difference \(numeric)")
        if mode == .batchStatistics, let index = model.parameters.firstIndex(of: "pw_conv/bias") {
            // A bias followed by batch-statistics BN has no effect: its gradient is zero.
            #expect(grads.parameters[index].storage.allSatisfy { abs($0) < 1e-4 })
        }
    }
}

/// `tanh(1)` in float32, the value the dropout test feeds through its mask.
let tanhOfOne = Float(Foundation.tanh(1.0))
