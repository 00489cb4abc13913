import Pruning
import TensorCore
import Training
import XCTest

/// Pruning with fine-tuning on a small trainable MLP: the masks stay fixed through training and
/// every step removes exactly the AGP count.
final class GradualPruningTests: XCTestCase {
    /// x [N,8] → fc1 (8×12 + bias) → ReLU → fc2 (12×3 + bias), ramp weights scaled to ±0.96.
    func model() throws -> TrainableModel {
        var g = Graph(name: "mlp")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 8]))
        var w1 = try SmallGraphs.ramp([8, 12]), w2 = try SmallGraphs.ramp([12, 3])
        w1.storage = w1.storage.map { $0 / 100 }
        w2.storage = w2.storage.map { $0 / 40 }
        try g.addInitializer("w1", w1)
        try g.addInitializer("b1", Tensor(shape: [12], repeating: 0.01))
        try g.addInitializer("w2", w2)
        try g.addInitializer("b2", Tensor(shape: [3]))
        try g.append(Node(name: "fc1/linear", op: .linear, inputs: ["x", "w1", "b1"], output: "h", layer: "fc1"))
        try g.append(Node(name: "fc1/relu", op: .activation(.relu), inputs: ["h"], output: "r", layer: "fc1"))
        try g.append(Node(name: "fc2/linear", op: .linear, inputs: ["r", "w2", "b2"], output: "y", layer: "fc2"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 3])]
        return try TrainableModel(graph: g)
    }

    /// 48 samples; the label is the argmax of three fixed sums of the inputs (learnable).
    func data() throws -> TrainingSet {
        var x: [Float] = [], y: [Int] = []
        for n in 0..<48 {
            let row = (0..<8).map { Float(((n * 7 + $0 * 3) % 11) - 5) / 5 }
            x += row
            let scores = [row[0] + row[1] - row[2], row[3] - row[4] + row[5], row[6] + row[7] - row[0]]
            y.append(scores.indices.max { scores[$0] < scores[$1] } ?? 0)
        }
        return try TrainingSet(inputs: Tensor(shape: [48, 8], storage: x), labels: y, teacherLogits: nil)
    }

    func training(epochs: Int) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = epochs
        c.batchSize = 8
        c.learningRate = 1e-2
        c.seed = 5
        return c
    }

    func zeroSet(_ t: Tensor?) -> Set<Int> { Set((t?.storage.indices ?? 0..<0).filter { t?.storage[$0] == 0 }) }

    func testMasksStayFixedThroughFineTuning() throws {
        let initial = try model()
        let config = PruningConfiguration(sparsity: 0.5)
        // The mask one-shot pruning picks from the same weights.
        let (oneShot, _) = try MagnitudePruning(config).prune(initial.graph)
        let (tuned, report, steps) = try GradualPruning(config, steps: 1, training: training(epochs: 4)).run(initial, train: data())
        XCTAssertEqual(steps.count, 1)
        XCTAssertEqual(steps[0].epochs.count, 4)
        for w in ["w1", "w2"] {
            // Exactly the pruned weights are zero after 4 epochs of Adam: none revived, none added.
            XCTAssertEqual(zeroSet(tuned.graph.initializers[w]), zeroSet(oneShot.initializers[w]), w)
            // And training did move the surviving weights.
            XCTAssertNotEqual(tuned.graph.initializers[w]?.storage, oneShot.initializers[w]?.storage, w)
        }
        XCTAssertEqual(zeroSet(tuned.graph.initializers["w1"]).count, 48)  // round(0.5·96)
        XCTAssertEqual(zeroSet(tuned.graph.initializers["w2"]).count, 18)  // round(0.5·36)
        XCTAssertEqual(report.layers.map(\.nonzeros), [48, 18])
        XCTAssertEqual(report.layers.map(\.pruned), [48, 18])
        XCTAssertLessThan(steps[0].epochs[3].loss, steps[0].epochs[0].loss)
    }

    func testAGPStepsRemoveTheRampCounts() throws {
        var config = PruningConfiguration(sparsity: 0.75)
        config.perLayer = ["fc2": 0.5]
        var counts: [[Int]] = []
        let (tuned, report, steps) = try GradualPruning(config, steps: 3, training: training(epochs: 1))
            .run(try model(), train: data(), onStep: { _, r in counts.append(r.layers.map { $0.parameters - $0.nonzeros }) })
        // K = 3: fractions 19/27, 26/27, 1. fc1 (96): 0.75·19/27·96 = 50.67 → 51, 0.75·26/27·96 = 69.33 → 69, 72.
        // fc2 (36, own target 0.5): 0.5·19/27·36 = 12.67 → 13, 0.5·26/27·36 = 17.33 → 17, 18.
        XCTAssertEqual(counts, [[51, 13], [69, 17], [72, 18]])
        for (step, s) in zip(steps, [0.75 * 19 / 27, 0.75 * 26 / 27, 0.75]) { XCTAssertEqual(step.sparsity, s, accuracy: 1e-15) }
        XCTAssertEqual(steps.map(\.pruned), [64, 22, 4])
        XCTAssertEqual(report.layers.map(\.nonzeros), [24, 18])
        XCTAssertEqual(report.layers.map(\.target), [0.75, 0.5])
        XCTAssertEqual(zeroSet(tuned.graph.initializers["w1"]).count, 72)
        XCTAssertEqual(zeroSet(tuned.graph.initializers["w2"]).count, 18)
    }

    func testAGPRefusesTwoOfFour() throws {
        let config = PruningConfiguration(sparsity: 0.5, structure: .twoOfFour)
        XCTAssertThrowsError(try GradualPruning(config, steps: 3, training: training(epochs: 1)).run(try model(), train: data())) { error in
            XCTAssertEqual((error as? ModelPressError)?.exitCode, 2)
        }
    }
}
