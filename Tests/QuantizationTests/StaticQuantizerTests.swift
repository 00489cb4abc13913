import Engine
import ONNXIO
import Quantization
import TensorCore
import Testing

/// Static quantization of a tiny Dense → ReLU graph: annotations, ReLU folding, fake-quant
/// execution, and the QDQ ONNX round trip.
@Suite("static quantization")
struct StaticQuantizerTests {
    /// `y = relu(x · W + b)`, x: N×2, W: 2×2; `y` is the graph output.
    static func denseRelu() throws -> Graph {
        var g = Graph(name: "tiny")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2]))
        try g.addInitializer("w", try Tensor(shape: [2, 2], storage: [0.5, -1, 0.25, 2]))
        try g.addInitializer("b", try Tensor(shape: [2], storage: [0.1, -0.2]))
        try g.append(Node(name: "dense", op: .linear, inputs: ["x", "w", "b"], output: "pre"))
        try g.append(Node(name: "relu", op: .activation(.relu), inputs: ["pre"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 2])]
        return g
    }

    /// Statistics as if calibration saw x ∈ [−1, 1], pre ∈ [−0.5, 2.54] and y ∈ [0, 2.55].
    static func statistics() -> [String: ActivationStatistics] {
        var x = ActivationStatistics(), pre = ActivationStatistics(), y = ActivationStatistics()
        [Float(-1), 1].withUnsafeBufferPointer { _ = x.minMax.observe($0) }
        [Float(-0.5), 2.54].withUnsafeBufferPointer { _ = pre.minMax.observe($0) }
        [Float(0), 2.55].withUnsafeBufferPointer { _ = y.minMax.observe($0) }
        return ["x": x, "pre": pre, "y": y]
    }

    @Test("uint8: the ReLU folds into the output range (zero point 0)")
    func foldsRelu() throws {
        let g = try Self.denseRelu()
        let options = StaticQuantizationOptions()
        let plan = QuantizationPlan(graph: g, options: options)
        #expect(plan.calibrated == ["x", "y"] && plan.foldable.count == 1)
        let (q, reports) = try StaticQuantizer.quantize(g, plan: plan, statistics: Self.statistics(), options: options)
        #expect(q.nodes.map(\.name) == ["dense"] && q.nodes[0].output == "y")
        #expect(reports.count == 1 && reports[0].foldedActivation == "Activation(relu)")
        let y = try #require(q.quantization["y"])
        #expect(y.type == .uint8 && y.zeroPoints == [0] && abs(y.scales[0] - 0.01) < 1e-7)
        let x = try #require(q.quantization["x"])
        let w = try #require(q.quantization["w"])
        #expect(w.axis == 1 && w.type == .int8)
        let b = try #require(q.quantization["b"])
        #expect(b.type == .int32 && b.scales == w.scales.map { x.scales[0] * $0 })
    }

    @Test("int8 activations keep the ReLU (its clamp is not the quantizer's)")
    func keepsReluForInt8() throws {
        let g = try Self.denseRelu()
        var options = StaticQuantizationOptions()
        options.activations = .int8
        let plan = QuantizationPlan(graph: g, options: options)
        let (q, _) = try StaticQuantizer.quantize(g, plan: plan, statistics: Self.statistics(), options: options)
        #expect(q.nodes.map(\.name) == ["dense", "relu"])
        // The Dense output itself is calibrated (max |pre| = 2.54 → scale 0.02); the ReLU keeps
        // that grid (relu of grid values is on the grid, zero being exact).
        let pre = try #require(q.quantization["pre"])
        #expect(pre.type == .int8 && pre.zeroPoints == [0] && abs(pre.scales[0] - 0.02) < 1e-7)
        #expect(q.quantization["y"] == pre)
    }

    @Test("the engine fake-quantizes: result equals the hand computation on dequantized values")
    func fakeQuantExecution() throws {
        let g = try Self.denseRelu()
        let options = StaticQuantizationOptions()
        let (q, _) = try StaticQuantizer.quantize(
            g, plan: QuantizationPlan(graph: g, options: options),
            statistics: Self.statistics(), options: options)
        let input = try Tensor(shape: [2, 2], storage: [0.3, -0.7, 0.9, 0.05])
        let out = try Executor(graph: q).run(input)
        // Manual: dequantize x, W, b; float dense; clamp+round onto y's grid (scale 0.01, zp 0).
        let xq = try #require(q.quantization["x"]), wq = try #require(q.quantization["w"]), bq = try #require(q.quantization["b"])
        let x = input.storage.map { xq.dequantize(xq.quantize($0)) }
        let w = [Float(0.5), -1, 0.25, 2].enumerated().map { i, v in wq.dequantize(wq.quantize(v, channel: i % 2), channel: i % 2) }
        let b = [Float(0.1), -0.2].enumerated().map { c, v in bq.dequantize(bq.quantize(v, channel: c), channel: c) }
        for n in 0..<2 {
            for m in 0..<2 {
                let pre = x[2 * n] * w[m] + x[2 * n + 1] * w[2 + m] + b[m]
                let expected = Float(min(255, max(0, (pre / 0.01).rounded(.toNearestOrEven)))) * 0.01
                #expect(abs(out.storage[2 * n + m] - expected) < 1e-6, "row \(n) col \(m): \(out.storage[2 * n + m]) vs \(expected)")
            }
        }
    }

    @Test("QDQ ONNX round trip keeps the annotations and the outputs")
    func onnxRoundTrip() throws {
        let g = try Self.denseRelu()
        let options = StaticQuantizationOptions()
        let (q, _) = try StaticQuantizer.quantize(
            g, plan: QuantizationPlan(graph: g, options: options),
            statistics: Self.statistics(), options: options)
        var export = ONNXExportOptions()
        export.optimize = false
        let result = try ONNXExporter.export(q, options: export)
        let back = try ONNXImporter.importModel(from: result.data, file: "tiny.onnx")
        #expect(Set(back.quantization.keys) == ["x", "w", "b", "y"])
        for (name, annotation) in q.quantization { #expect(back.quantization[name] == annotation, "\(name)") }
        let input = try Tensor(shape: [3, 2], storage: [0.3, -0.7, 0.9, 0.05, -1, 1])
        #expect(try Executor(graph: back).run(input) == Executor(graph: q).run(input))
        // Deterministic bytes.
        #expect(try ONNXExporter.export(q, options: export).data == result.data)
    }

    @Test("QOperator ONNX round trip: QLinearConv in the file, same outputs after import")
    func qoperatorRoundTrip() throws {
        let g = try Self.denseRelu()
        var options = StaticQuantizationOptions()
        options.exclude = []
        let (q, _) = try StaticQuantizer.quantize(
            g, plan: QuantizationPlan(graph: g, options: options),
            statistics: Self.statistics(), options: options)
        // A graph output cannot be written by a QLinearConv directly; add a float op after it.
        var h = q
        try h.append(Node(name: "probabilities", op: .softmax(axis: 1), inputs: ["y"], output: "p"))
        h.outputs = [ValueInfo(name: "p", shape: [dynamicBatch, 2])]
        var export = ONNXExportOptions()
        export.optimize = false
        export.quantizedForm = .qoperator
        let result = try ONNXExporter.export(h, options: export)
        let back = try ONNXImporter.importModel(from: result.data, file: "tiny-qop.onnx")
        #expect(back.nodes.contains { if case .conv2D = $0.op { return true } else { return false } })
        let input = try Tensor(shape: [3, 2], storage: [0.3, -0.7, 0.9, 0.05, -1, 1])
        let expected = try Executor(graph: h).run(input)
        let actual = try Executor(graph: back).run(input)
        for (a, b) in zip(actual.storage, expected.storage) { #expect(abs(a - b) < 1e-6, "\(a) vs \(b)") }
        #expect(try IntegerExecutor(graph: back).run(input).storage.elementsEqual(actual.storage) { abs($0 - $1) < 1e-6 })
        #expect(try ONNXExporter.export(h, options: export).data == result.data)
    }
}
