import Foundation
import ModelIO
import TensorCore
import Testing
import Training

/// JSON student specs: strict parsing, Keras shapes and parameter counts (worked by hand from
/// Keras's layer formulas), Keras Glorot bounds, and a spec that trains.
@Suite struct StudentArchitectureTests {
    func architecture(_ text: String) throws -> StudentArchitecture {
        try StudentArchitecture(json: try JSONValue.parse(text), file: "s.json")
    }

    @Test func convStackHasKerasShapesParametersAndInitialisation() throws {
        let spec = try architecture(
            """
            {"input": [8, 8, 1], "layers": [
              {"conv": {"filters": 8, "kernel": 3, "activation": "relu"}}, {"maxpool": 2},
              {"depthwise_conv": {"kernel": 3, "depth_multiplier": 2, "use_bias": false}},
              {"separable_conv": {"filters": 12, "kernel": [3, 3], "strides": 2, "padding": "valid"}},
              {"batchnorm": {}}, {"global_avgpool": {}}, {"dense": {"units": 10}}]}
            """)
        let model = try spec.build(sampleShape: [64], classes: 10, seed: 5)
        let g = model.graph
        // Keras: Conv2D(8, 3, same) on 8×8×1 = 3·3·1·8 + 8 = 80; MaxPool → 4×4×8; DepthwiseConv2D
        // (×2, no bias) = 3·3·8·2 = 144 → 4×4×16; SeparableConv2D(12, 3, stride 2, valid) =
        // 3·3·16 + 16·12 + 12 = 348 → 1×1×12; BN γ, β = 24 trainable; Dense(10) = 12·10 + 10 = 130.
        #expect(model.parameterCount == 80 + 144 + 348 + 24 + 130)
        #expect(g.inputs[0].shape == [dynamicBatch, 8, 8, 1])
        #expect(g.shapes["separable_conv2d_1"] == [dynamicBatch, 12, 1, 1])
        #expect(g.outputs[0].shape == [dynamicBatch, 10])
        // Glorot-uniform with Keras's fans; zero biases; BN starts at γ 1, β 0, mean 0, variance 1.
        func bound(_ name: String, _ fanIn: Int, _ fanOut: Int) throws {
            let w = try #require(g.initializers[name])
            let limit = (6 / Float(fanIn + fanOut)).squareRoot()
            #expect(w.storage.allSatisfy { abs($0) <= limit } && w.storage.contains { abs($0) > 0.8 * limit }, "\(name)")
        }
        try bound("conv2d_1/kernel", 9, 72)
        try bound("depthwise_conv2d_1/kernel", 9 * 8, 9 * 2)
        try bound("separable_conv2d_1/depthwise/kernel", 9 * 16, 9)
        try bound("separable_conv2d_1/pointwise_kernel", 16, 12)
        try bound("dense_1/kernel", 12, 10)
        #expect(g.initializers["conv2d_1/bias"]?.storage.allSatisfy { $0 == 0 } == true)
        #expect(g.initializers["depthwise_conv2d_1/bias"] == nil)
        #expect(g.initializers["batch_normalization_1/moving_variance"]?.storage == [Float](repeating: 1, count: 12))
        // Same seed, same weights; another seed, others.
        let again = try spec.build(sampleShape: [64], classes: 10, seed: 5)
        let other = try spec.build(sampleShape: [64], classes: 10, seed: 6)
        #expect(again.graph.initializers["dense_1/kernel"] == g.initializers["dense_1/kernel"])
        #expect(other.graph.initializers["dense_1/kernel"] != g.initializers["dense_1/kernel"])
    }

    @Test func samePaddingFollowsKeras() throws {
        // Keras 'same' with stride 2 on 7: out ⌈7/2⌉ = 4, total padding (4−1)·2 + 3 − 7 = 2 → 1/1;
        // on 8: out 4, total (4−1)·2 + 3 − 8 = 1 → 0 before, 1 after.
        let spec = try architecture(
            """
            {"layers": [{"conv": {"filters": 2, "kernel": 3, "strides": 2}}, {"flatten": {}}, {"dense": {"units": 3}}]}
            """)
        let model = try spec.build(sampleShape: [7, 8, 1], classes: 3, seed: 1)
        let conv = try #require(model.graph.nodes.first { $0.name == "conv2d_1" })
        guard case .conv2D(let a) = conv.op else { Issue.record("not a conv"); return }
        #expect(a.pads.array == [1, 0, 1, 1])
        #expect(model.graph.shapes["conv2d_1"] == [dynamicBatch, 2, 4, 4])
    }

    @Test func strictParsingNamesTheKey() throws {
        func failure(_ text: String) -> String {
            do { _ = try architecture(text); return "" } catch { return "\(error)" }
        }
        #expect(failure(#"{"layers": [{"dense": {"units": 4, "unit": 3}}]}"#).contains("layers[0].dense: unknown key 'unit'"))
        #expect(failure(#"{"layers": [{"dense": {"units": 2.5}}]}"#).contains("layers[0].dense.units"))
        #expect(failure(#"{"layers": [{"conv": {"filters": 4}, "dense": {"units": 2}}]}"#).contains("exactly one key"))
        #expect(failure(#"{"layers": [{"batchnorm": {"momentum": 1}}]}"#).contains("layers[0].batchnorm.momentum"))
        #expect(failure(#"{"layers": [{"zero_padding": [[1, -1], [0, 0]]}]}"#).contains("layers[0].zero_padding[0][1]"))
        #expect(failure(#"{"input": [8, 0], "layers": [{"flatten": {}}]}"#).contains("input[1]"))
        #expect(failure(#"{"layers": {"dense": {"units": 4}}}"#).contains("non-empty array"))
        #expect(failure(#"{"layers": [{"dense": {"units": 4, "activation": "mish"}}]}"#).contains("must be one of"))
        #expect(failure(#"{"layers": [{"conv": {"filters": 4, "kernel": 4096}}]}"#).contains("layers[0].conv.kernel"))
        // Parsed but too large to build: refused before allocating.
        let huge = try architecture(#"{"input": [64], "layers": [{"dense": {"units": 65536}}, {"dense": {"units": 65536}}, {"dense": {"units": 2}}]}"#)
        #expect(throws: ModelPressError.self) { try huge.build(sampleShape: [64], classes: 2, seed: 1) }
        // Zero padding forms: k, [rows, columns], [[top, bottom], [left, right]].
        #expect(try architecture(#"{"layers": [{"zero_padding": 2}]}"#).layers == [.zeroPadding([2, 2, 2, 2])])
        #expect(try architecture(#"{"layers": [{"zero_padding": [1, 3]}]}"#).layers == [.zeroPadding([1, 1, 3, 3])])
        #expect(try architecture(#"{"layers": [{"zero_padding": [[0, 1], [2, 0]]}]}"#).layers == [.zeroPadding([0, 1, 2, 0])])
    }

    @Test func specTrainsDownhill() throws {
        let spec = try architecture(
            """
            {"input": [2, 3, 1], "layers": [{"conv": {"filters": 4, "kernel": 2, "activation": "relu"}}, {"batchnorm": {}},
             {"flatten": {}}, {"dense": {"units": 8, "activation": "tanh"}}, {"dropout": 0.1}, {"dense": {"units": 3}}]}
            """)
        var data = try TrainerTests.blobs(90, seed: 7)
        data.inputs = try data.inputs.reshaped([90, 2, 3, 1])
        let model = try spec.build(sampleShape: [6], classes: 3, seed: 2)
        #expect(model.dropout.count == 1)
        var c = TrainerTests.configuration()
        c.epochs = 8
        let result = try Trainer(c).fit(model, train: data, validation: nil)
        let first = try #require(result.history.first), last = try #require(result.history.last)
        #expect(last.loss < first.loss)
    }
}
