import Engine
import Quantization
import TensorCore
import Testing

/// Float16 rounding worked by hand, the engine's float16 execution against float16 arithmetic
/// done step by step, and the planner's decisions on graphs where the answer is known.
@Suite("float16 precision")
struct HalfPrecisionTests {
    /// `y = relu(x · W)`: one Linear and one ReLU.
    static func dense(weights: [Float]) throws -> Graph {
        var g = Graph(name: "dense")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2]))
        try g.addInitializer("w", try Tensor(shape: [2, 2], storage: weights))
        try g.append(Node(name: "d", op: .linear, inputs: ["x", "w"], output: "h"))
        try g.append(Node(name: "r", op: .activation(.relu), inputs: ["h"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 2])]
        return g
    }

    @Test("rounding: ties to even, the largest finite value, overflow, subnormals")
    func rounding() {
        #expect(HalfPrecision.round(65504) == 65504)
        #expect(HalfPrecision.round(65519) == 65504)  // below the midpoint to 65536
        #expect(HalfPrecision.round(65520) == .infinity)  // the midpoint rounds to even: overflow
        #expect(HalfPrecision.round(1.0 / 3.0) == 0.333251953125)  // 0x3555
        #expect(HalfPrecision.round(1 + 0x1p-11) == 1)  // tie between 1 and 1 + 2⁻¹⁰: even
        #expect(HalfPrecision.round(1 + 3 * 0x1p-11) == 1 + 0x1p-9)  // tie: to the even 1 + 2·2⁻¹⁰
        #expect(HalfPrecision.round(0x1p-25) == 0)  // half the smallest subnormal: to even (0)
        #expect(HalfPrecision.round(3 * 0x1p-26) == 0x1p-24)
        #expect(HalfPrecision.bits(-2) == 0xC000)
        #expect(HalfPrecision.value(bits: 0x7BFF) == 65504)
    }

    @Test("the engine rounds weights, the float16 node's inputs and its outputs")
    func engineRounds() throws {
        var g = try Self.dense(weights: [1.0 / 3.0, 0.1, -0.7, 2.0 / 3.0])
        let (planned, _) = try HalfPrecisionPlanner.plan(g, options: HalfPrecisionOptions(), ranges: nil)
        g = planned
        let x: [Float] = [0.123456, 3.14159]
        let y = try Executor(graph: g).run(try Tensor(shape: [1, 2], storage: x))
        let r = HalfPrecision.round
        let w: [Float] = [1.0 / 3.0, 0.1, -0.7, 2.0 / 3.0].map(r)
        let xh = x.map(r)
        // Each float16 value rounded once: x (cast in), the product, the ReLU (exact), then
        // the Cast out to float32 (exact).
        let h0 = r(xh[0] * w[0] + xh[1] * w[2]), h1 = r(xh[0] * w[1] + xh[1] * w[3])
        #expect(y.storage == [max(0, h0), max(0, h1)])
        #expect(y.storage != [max(0, x[0] * 1 / 3 + x[1] * -0.7), max(0, x[0] * 0.1 + x[1] * 2 / 3)])
    }

    @Test("plan: float16 nodes, float32 inputs kept, the output cast back by an Identity")
    func planKeepsIO() throws {
        let (g, layers) = try HalfPrecisionPlanner.plan(try Self.dense(weights: [1, 2, 3, 4]), options: HalfPrecisionOptions(), ranges: nil)
        #expect(layers.map(\.precision) == ["fp16", "fp16"])
        #expect(g.halfPrecision == ["w", "h", "y/fp16"])
        #expect(g.nodes.map(\.name) == ["d", "r", "y/fp32"])
        #expect(g.nodes.last?.inputs == ["y/fp16"])
        #expect(layers[0].bytes == 8 && layers[0].floatBytes == 16)
    }

    @Test("plan: a weight beyond ±65504 keeps its node float32 and is never rounded to infinity")
    func planWeightOutOfRange() throws {
        let (g, layers) = try HalfPrecisionPlanner.plan(try Self.dense(weights: [1, 70000, 3, 4]), options: HalfPrecisionOptions(), ranges: nil)
        #expect(layers[0].precision == "fp32")
        #expect(layers[0].reason?.contains("70000") == true)
        #expect(!g.halfPrecision.contains("w"))
        let y = try Executor(graph: g).run(try Tensor(shape: [1, 2], storage: [0, 1]))
        #expect(y.storage[0].isFinite && y.storage[1] == 4)
    }

    @Test("plan: values beyond 65504 / headroom on the calibration data stay float32")
    func planActivationRange() throws {
        var options = HalfPrecisionOptions()
        options.headroom = 4
        let (_, layers) = try HalfPrecisionPlanner.plan(try Self.dense(weights: [1, 2, 3, 4]), options: options, ranges: ["x": 1, "h": 20000, "y": 20000])
        #expect(layers.map(\.precision) == ["fp32", "fp32"])
        let (_, within) = try HalfPrecisionPlanner.plan(try Self.dense(weights: [1, 2, 3, 4]), options: options, ranges: ["x": 1, "h": 16000, "y": 16000])
        #expect(within.map(\.precision) == ["fp16", "fp16"])
    }

    @Test("plan: weights only stores the weights half and computes nothing in float16")
    func planWeightsOnly() throws {
        var options = HalfPrecisionOptions()
        options.form = .weightsOnly
        let (g, layers) = try HalfPrecisionPlanner.plan(try Self.dense(weights: [1, 2, 3, 1e-8]), options: options, ranges: nil)
        #expect(g.halfPrecision == ["w"])
        #expect(layers[0].precision == "fp32, fp16 weights")
        #expect(layers[0].flushedToZero == 1)  // 1e-8 is below half the smallest float16
    }
}
