import Engine
import ONNXIO
import Quantization
import TensorCore
import Testing

/// The integer-only executor against the fake-quant float engine, and single-rounding
/// requantization worked by hand.
@Suite("integer executor")
struct IntegerExecutorTests {
    @Test("single rounding: one 64-bit product, one rounding shift")
    func singleRounding() throws {
        let half = try #require(FixedPointMultiplier(0.5))
        #expect(half.applySingleRounding(100) == 50)
        #expect(half.applySingleRounding(3) == 2)  // 1.5 rounds half up
        #expect(half.applySingleRounding(-3) == -1)  // −1.5 rounds half up to −1
        let small = try #require(FixedPointMultiplier(1e-4))
        #expect(small.applySingleRounding(100_000) == 10)
        // m0 = 1_759_218_604 is 1e-4 · 2^44 rounded down, so 15000·M = 1.49999999975: one
        // rounding gives 1; gemmlowp's two roundings give 2 (the high multiply rounds first).
        #expect(small.applySingleRounding(15_000) == 1)
        #expect(small.apply(15_000) == 2)
        #expect(small.applySingleRounding(15_001) == 2)
        let three = try #require(FixedPointMultiplier(3))
        #expect(three.applySingleRounding(10) == 30)
        #expect(three.applySingleRounding(Int32.max) == Int32.max)  // saturates
        // The case double rounding gets wrong: 2^20 + 2^9 − 1 times M = 2^-10·(1 + 2^-30):
        // the exact product is just below 1024.5, so one rounding gives 1024.
        let m = try #require(FixedPointMultiplier(0x1p-10 * (1 + 0x1p-30)))
        let x: Int32 = (1 << 20) + (1 << 9) - 1
        #expect(m.applySingleRounding(x) == Int32((Double(x) * m.real).rounded()))
    }

    @Test("single rounding equals round(x·M) away from exact ties")
    func singleMatchesReal() throws {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let real = Double.random(in: 1e-5..<4, using: &g)
            let m = try #require(FixedPointMultiplier(real))
            let x = Int32.random(in: -(1 << 22)...(1 << 22), using: &g)
            let exact = Double(x) * m.real
            guard abs(exact - exact.rounded(.down) - 0.5) > 1e-6 else { continue }
            #expect(m.applySingleRounding(x) == Int32(exact.rounded()), "x=\(x) M=\(real)")
        }
    }

    @Test("tiny Dense → ReLU graph: integer results equal the fake-quant engine's")
    func matchesFakeQuant() throws {
        let g = try StaticQuantizerTests.denseRelu()
        let options = StaticQuantizationOptions()
        let (q, _) = try StaticQuantizer.quantize(
            g, plan: QuantizationPlan(graph: g, options: options),
            statistics: StaticQuantizerTests.statistics(), options: options)
        let x = try Tensor(shape: [4, 2], storage: [0.3, -0.7, 0.9, 0.05, -1, 1, 0.123, 0.456])
        let fake = try Executor(graph: q).run(x)
        let integer = try IntegerExecutor(graph: q).run(x)
        #expect(integer == fake)
    }

    @Test("a float graph is refused")
    func refusesFloat() throws {
        #expect(throws: ModelPressError.self) { _ = try IntegerExecutor(graph: try StaticQuantizerTests.denseRelu()) }
    }
}
