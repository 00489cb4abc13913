import Engine
import Foundation
import ModelIO
import Quantization
import TensorCore
import Testing
import _TestSupport

/// `BiasCorrection.measure` against a different route to the same number: the mean, per output
/// channel, of the difference between a layer's output with its quantized weights and with its
/// float weights, each computed by a whole forward pass of the float model (all other layers
/// float) — for a depthwise conv, a 1×1 conv without bias and a Dense.
@Suite("bias correction")
struct BiasCorrectionTests {
    /// x [N,2,4,4] → depthwise 3×3 (pad 1, bias) → ReLU → 1×1 conv 2→3 (no bias) → Flatten → Dense 48→2.
    static func graph() throws -> Graph {
        var g = Graph(name: "bc")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2, 4, 4]))
        let pad = Padding2D(top: 1, left: 1, bottom: 1, right: 1)
        try g.addInitializer("dw", try Tensor(shape: [2, 1, 3, 3], storage: (0..<18).map { Float(sin(Double($0) * 1.7)) }))
        try g.addInitializer("dw_b", try Tensor(shape: [2], storage: [0.1, -0.2]))
        try g.addInitializer("pw", try Tensor(shape: [3, 2, 1, 1], storage: [0.9, -0.35, 0.27, 0.61, -0.77, 0.13]))
        try g.addInitializer("fc", try Tensor(shape: [48, 2], storage: (0..<96).map { Float(cos(Double($0) * 0.37)) * 0.3 }))
        try g.append(Node(name: "dw", op: .conv2D(Conv2DAttributes(kernel: Size2D(3, 3), pads: pad, group: 2)), inputs: ["x", "dw", "dw_b"], output: "a"))
        try g.append(Node(name: "relu", op: .activation(.relu), inputs: ["a"], output: "r"))
        try g.append(Node(name: "pw", op: .conv2D(Conv2DAttributes(kernel: Size2D(1, 1))), inputs: ["r", "pw"], output: "p"))
        try g.append(Node(name: "flat", op: .flatten(Flatten()), inputs: ["p"], output: "f"))
        try g.append(Node(name: "fc", op: .linear, inputs: ["f", "fc"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 2])]
        return g
    }

    @Test("the measured shift is the mean output change of quantizing each layer's weights")
    func shiftsMatchForwardDifferences() throws {
        let g = try Self.graph()
        let n = 10
        let x = (0..<(n * 32)).map { Float(sin(Double($0) * 0.913) + 0.3) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bias-correction-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writeDataset(path: path, x: x, shape: [n, 2, 4, 4], y: [Int64](repeating: 0, count: n))
        let data = try DatasetFile(path: path, xKey: "x", yKey: nil)
        var options = StaticQuantizationOptions()
        options.fourBitWeights = true
        options.weights = .perTensor
        let plan = QuantizationPlan(graph: g, options: options)
        // Batches of 3 (4 batches, the last partial): the means must not depend on batching.
        let shifts = try BiasCorrection.measure(g, plan: plan, options: options, data: data, samples: nil, batchSize: 3)
        #expect(Set(shifts.keys) == ["dw", "pw", "fc"])
        let input = try Tensor(shape: [n, 2, 4, 4], storage: x)
        for (node, value, weight, axis) in [("dw", "a", "dw", 0), ("pw", "p", "pw", 0), ("fc", "y", "fc", 1)] {
            var quantized = g
            var w = try #require(g.initializers[weight])
            let index = try #require(g.nodes.firstIndex { $0.name == node })
            StaticQuantizer.weightQuantization(w, of: g.nodes[index], axis: axis, options: options).fakeQuantize(&w)
            quantized.initializers[weight] = w
            let before = try output(of: value, g, input), after = try output(of: value, quantized, input)
            let channels = after.shape[1], inner = after.count / (n * channels)
            var expected = [Double](repeating: 0, count: channels)
            for i in 0..<after.count { expected[(i / inner) % channels] += Double(after.storage[i] - before.storage[i]) }
            let got = try #require(shifts[node])
            #expect(got.count == channels)
            for c in 0..<channels {
                let mean = expected[c] / Double(n * inner)
                #expect(abs(Double(got[c]) - mean) < 1e-5, "\(node) channel \(c): \(got[c]) vs \(mean)")
            }
            #expect(got.contains { abs($0) > 1e-3 }, "\(node): 4-bit per-tensor weights shift the output")
        }
    }

    @Test("the quantizer subtracts the shift from the bias, adding one where the layer has none")
    func quantizerAppliesTheShift() throws {
        let g = try Self.graph()
        var options = StaticQuantizationOptions()
        options.biasShifts = ["dw": [0.05, -0.5], "pw": [1, 2, 3]]
        let plan = QuantizationPlan(graph: g, options: options)
        var stats: [String: ActivationStatistics] = [:]
        for name in plan.calibrated {
            var s = ActivationStatistics()
            [Float(-4), 4].withUnsafeBufferPointer { _ = s.minMax.observe($0) }
            stats[name] = s
        }
        let (q, reports) = try StaticQuantizer.quantize(g, plan: plan, statistics: stats, options: options)
        let b = try #require(q.initializers["dw_b"]?.storage)
        #expect(abs(b[0] - 0.05) < 1e-7 && abs(b[1] - 0.3) < 1e-7, "\(b)")
        let pw = try #require(q.nodes.first { $0.name == "pw" })
        #expect(pw.inputs.count == 3)
        #expect(q.initializers[pw.inputs[2]]?.storage == [-1, -2, -3])
        #expect(q.quantization[pw.inputs[2]]?.type == .int32)
        #expect(reports.first { $0.node == "dw" }?.biasShift == 0.5)
        #expect(reports.first { $0.node == "fc" }?.biasShift == nil)
        #expect(g.initializers["dw_b"]?.storage == [0.1, -0.2], "the float graph keeps its bias")
    }

    private func output(of value: String, _ graph: Graph, _ x: Tensor) throws -> Tensor {
        var found: Tensor?
        _ = try Executor(graph: graph).run(x) { name, v in if name == value { found = v } }
        return try #require(found)
    }
}
