import Foundation
import Quantization
import TensorCore
import Testing

/// `QuantizationErrorMeter`: SQNR and MSE of a layer's output against the float model,
/// checked on a 1→1 Dense layer where the quantization error is computed by hand.
@Suite("quantization error")
struct QuantizationErrorTests {
    /// `y = x · [1]`, x and y calibrated to [0, 2.55] (uint8 scale 0.01, zero point 0).
    static func unitDense() throws -> (Graph, Graph) {
        var g = Graph(name: "unit")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 1]))
        try g.addInitializer("w", try Tensor(shape: [1, 1], storage: [1]))
        try g.append(Node(name: "dense", op: .linear, inputs: ["x", "w"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 1])]
        var stats: [String: ActivationStatistics] = [:]
        for name in ["x", "y"] {
            var s = ActivationStatistics()
            [Float(0), 2.55].withUnsafeBufferPointer { _ = s.minMax.observe($0) }
            stats[name] = s
        }
        let options = StaticQuantizationOptions()
        let (q, _) = try StaticQuantizer.quantize(g, plan: QuantizationPlan(graph: g, options: options), statistics: stats, options: options)
        return (g, q)
    }

    @Test("SQNR and MSE equal the hand computation")
    func handComputed() throws {
        let (g, q) = try Self.unitDense()
        var meter = try QuantizationErrorMeter(float: g, quantized: q, nodes: ["dense"])
        // Split over two batches: the sums must not depend on batching.
        try meter.add(["x": try Tensor(shape: [2, 1], storage: [0.004, 0.016])])
        try meter.add(["x": try Tensor(shape: [2, 1], storage: [1, 2])])
        let e = try #require(meter.byNode["dense"])
        // x rounds onto the 0.01 grid: 0.004 → 0, 0.016 → 0.02, 1 and 2 exact; the weight 1 is
        // exact in int8 (127 · 1/127), so y's error is x's: Σe² = 2 · 0.004² = 3.2e-5,
        // Σy² = 0.004² + 0.016² + 1 + 4 = 5.000272, SQNR = 10·log10(5.000272 / 3.2e-5) = 51.938 dB.
        #expect(e.elements == 4 && e.value == "y")
        #expect(abs(e.mse - 8e-6) < 1e-10)
        let sqnr = try #require(e.sqnrDB)
        #expect(abs(sqnr - 51.9384) < 1e-3, "SQNR \(sqnr)")
    }

    @Test("an exactly reproduced output has no finite SQNR and zero MSE")
    func exact() throws {
        let (g, q) = try Self.unitDense()
        var meter = try QuantizationErrorMeter(float: g, quantized: q, nodes: ["dense"])
        try meter.add(["x": try Tensor(shape: [3, 1], storage: [0, 0.5, 2.55])])
        let e = try #require(meter.byNode["dense"])
        #expect(e.sqnrDB == nil && e.mse == 0 && e.elements == 3)
    }

    @Test("unknown node is an internal error")
    func unknownNode() throws {
        let (g, q) = try Self.unitDense()
        #expect(throws: ModelPressError.self) { try QuantizationErrorMeter(float: g, quantized: q, nodes: ["nope"]) }
    }
}
