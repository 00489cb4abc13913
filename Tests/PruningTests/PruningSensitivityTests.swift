import Evaluation
import ModelIO
import ModelLoading
import Passes
import Pruning
import TensorCore
import Testing
import _TestSupport

/// `PruningSensitivity.run` on the digits CNN against a sweep done by hand here (each kernel's
/// smallest |w| zeroed by sorting, the model evaluated), and its suggestion rule on worked examples.
@Suite("pruning sensitivity")
struct PruningSensitivityTests {
    /// `graph` with the `round(level·n)` smallest-magnitude weights of `weight` set to zero.
    static func handPruned(_ graph: Graph, weight: String, level: Double) throws -> Graph {
        var g = graph
        let w = try #require(g.initializers[weight])
        let order = w.storage.indices.sorted { (abs(w.storage[$0]), $0) < (abs(w.storage[$1]), $1) }
        var storage = w.storage
        for i in order.prefix(Int((level * Double(storage.count)).rounded())) { storage[i] = 0 }
        g.initializers[weight] = try Tensor(shape: w.shape, storage: storage)
        return g
    }

    @Test("each layer's accuracy at each level equals the hand-pruned model's")
    func matchesHandSweep() throws {
        let graph = try ModelLoader.load(Fixtures.path("models/keras3/cnn.h5"))
        let data = try DatasetFile(path: Fixtures.path("data/digits_test.h5"), requireLabels: true)
        let options = PruningSensitivityOptions(levels: [0.9, 0.5], maxDrop: 0.02, batchSize: 90)
        let result = try PruningSensitivity.run(graph, model: "cnn.h5", data: data, dataName: "digits_test.h5", options: options)

        let folded = try runPasses(exportPasses, on: graph).0
        let kernels = PrunableKernel.candidates(in: folded).0
        #expect(result.sparsities == [0.5, 0.9] && result.samples == 360)
        #expect(result.layers.map(\.name) == kernels.map(\.layer))
        #expect(result.baseline == (try DatasetAccuracy.accuracy(of: folded, on: data, batchSize: 64)))
        for (unit, kernel) in zip(result.layers, kernels) {
            #expect(unit.parameters == kernel.count)
            for (level, accuracy) in zip(result.sparsities, unit.accuracy) {
                let reference = try DatasetAccuracy.accuracy(of: try Self.handPruned(folded, weight: kernel.weight, level: level), on: data, batchSize: 64)
                #expect(accuracy == reference, "\(unit.name) at \(level)")
            }
            #expect(
                unit.suggested
                    == PruningSensitivity.suggestion(
                        levels: result.sparsities, accuracy: unit.accuracy,
                        baseline: result.baseline, maxDrop: 0.02))
        }
        // Pruning 90% of a layer alone costs accuracy somewhere: the sweep measures something.
        #expect(result.layers.contains { $0.accuracy[1] < result.baseline })
    }

    @Test("suggestion: the highest level whose drop and every lower one's stay within the budget")
    func suggestionRule() {
        let levels = [0.1, 0.2, 0.3]
        #expect(PruningSensitivity.suggestion(levels: levels, accuracy: [0.9, 0.86, 0.7], baseline: 0.9, maxDrop: 0.05) == 0.2)
        // A later level back within budget does not count once one level failed.
        #expect(PruningSensitivity.suggestion(levels: levels, accuracy: [0.9, 0.8, 0.89], baseline: 0.9, maxDrop: 0.05) == 0.1)
        #expect(PruningSensitivity.suggestion(levels: levels, accuracy: [0.8, 0.9, 0.9], baseline: 0.9, maxDrop: 0.05) == nil)
        #expect(PruningSensitivity.suggestion(levels: levels, accuracy: [0.9, 0.9, 0.85], baseline: 0.9, maxDrop: 0.05) == 0.3)
    }

    @Test("unknown layer names and quantized models are refused")
    func refusals() throws {
        let graph = try ModelLoader.load(Fixtures.path("models/keras3/cnn.h5"))
        let data = try DatasetFile(path: Fixtures.path("data/digits_test.h5"), requireLabels: true)
        let unknown = #expect(throws: ModelPressError.self) {
            try PruningSensitivity.run(graph, model: "cnn.h5", data: data, dataName: "d", options: PruningSensitivityOptions(layers: ["nope"]))
        }
        #expect("\(unknown.map { "\($0)" } ?? "")".contains("no prunable layer named 'nope'"))
        #expect(throws: ModelPressError.self) {
            try PruningSensitivity.run(graph, model: "cnn.h5", data: data, dataName: "d", options: PruningSensitivityOptions(levels: [1.0]))
        }
    }
}
