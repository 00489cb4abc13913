import Engine
import Quantization
import TensorCore
import Testing

/// `--scheme pow2` (Q7 / Q15 fixed point): scales worked by hand, the shift-only
/// requantization, and the integer executor on a power-of-two model.
@Suite("power-of-two scales")
struct PowerOfTwoTests {
    @Test("symmetric int8 scales round up to powers of two (Q7 for |x| ≤ 127/128)")
    func symmetricScales() {
        // 0.9 / 127 = 0.00709 → 2^-7 (Q7): the range [−1, 127/128] holds 0.9.
        #expect(StaticQuantizer.activation(lo: -0.9, hi: 0.5, type: .int8, scheme: .pow2).scales == [0x1p-7])
        // 1.0 / 127 = 0.007874 > 2^-7: Q7 would clip 1.0 to 127/128, so the scale is 2^-6.
        #expect(StaticQuantizer.activation(lo: -1, hi: 1, type: .int8, scheme: .pow2).scales == [0x1p-6])
        // 0.12 / 32767 → 2^-18 (Q18); 0.25 = 32768 · 2^-17 is one step past int16's 32767, so
        // 0.25 gets 2^-16.
        #expect(StaticQuantizer.activation(lo: -0.12, hi: 0.1, type: .int16, scheme: .pow2).scales == [0x1p-18])
        #expect(StaticQuantizer.activation(lo: -0.25, hi: 0.25, type: .int16, scheme: .pow2).scales == [0x1p-16])
        // An exact power of two stays: 127 · 2^-3 = 15.875 → scale 2^-3.
        #expect(StaticQuantizer.activation(lo: 0, hi: 15.875, type: .int8, scheme: .pow2).scales == [0x1p-3])
    }

    @Test("asymmetric uint8: power-of-two scale, zero point keeping the top inside")
    func asymmetricScales() {
        // [−1, 3]: 4 / 255 = 0.01569 > 2^-6 → 2^-5; zero point round(1 · 32) = 32.
        let q = StaticQuantizer.activation(lo: -1, hi: 3, type: .uint8, scheme: .pow2)
        #expect(q.scales == [0x1p-5] && q.zeroPoints == [32])
        #expect(q.quantize(3) == 128 && q.quantize(-1) == 0)
        // [−64.5, 190.5]·2^-6 spans exactly 255 steps of 2^-6, but round(64.5) = 65 would put
        // the top at 65 + round(190.5) = 256: the zero point is lowered to 64.
        let tight = StaticQuantizer.activation(lo: -64.5 / 64, hi: 190.5 / 64, type: .uint8, scheme: .pow2)
        #expect(tight.scales == [0x1p-6] && tight.zeroPoints == [64])
        #expect(tight.quantize(-64.5 / 64) == 0 && tight.quantize(190.5 / 64) == 254)
        // ReLU output [0, 2.55]: 0.01 → 2^-6, zero point 0.
        let relu = StaticQuantizer.activation(lo: 0, hi: 2.55, type: .uint8, scheme: .pow2)
        #expect(relu.scales == [0x1p-6] && relu.zeroPoints == [0])
        // uint16: 2.55 / 65535 = 3.89e-5 → 2^-14 = 6.1e-5.
        #expect(StaticQuantizer.activation(lo: 0, hi: 2.55, type: .uint16, scheme: .pow2).scales == [0x1p-14])
    }

    @Test("pow2 weights: max|w| = 0.5 → 0.5/127 → 2^-7; 2.0 → 2^-5; all-zero channel → 1")
    func weightScales() throws {
        let w = try Tensor(shape: [2, 3], storage: [0.5, 2.0, 0, -0.25, 1.5, 0])
        let q = WeightQuantizer.symmetric(w, axis: 1, type: .int8, scheme: .pow2)
        #expect(q.scales == [0x1p-7, 0x1p-5, 1] && q.zeroPoints == [0, 0, 0])
        let q16 = WeightQuantizer.symmetric(w, axis: nil, type: .int16, scheme: .pow2)
        #expect(q16.scales == [0x1p-13] && q16.type == .int16)  // 2 / 32767 = 6.1037e-5 > 2^-14 → 2^-13
    }

    @Test("a power-of-two multiplier is m0 = 2^30 and applies as one shift, ties to even")
    func shift() throws {
        let m = try #require(FixedPointMultiplier(0x1p-7))
        #expect(m.m0 == 1 << 30 && m.powerOfTwoExponent == -7)
        #expect(FixedPointMultiplier.shift(200, by: -7) == 2)  // 1.5625 → 2
        #expect(FixedPointMultiplier.shift(192, by: -7) == 2)  // 1.5 → 2 (even)
        #expect(FixedPointMultiplier.shift(320, by: -7) == 2)  // 2.5 → 2 (even)
        #expect(FixedPointMultiplier.shift(-192, by: -7) == -2)  // −1.5 → −2 (even)
        #expect(FixedPointMultiplier.shift(-191, by: -7) == -1)  // −1.49 → −1
        #expect(FixedPointMultiplier.shift(-320, by: -7) == -2)  // −2.5 → −2 (even)
        #expect(FixedPointMultiplier.shift(5, by: 2) == 20)
        #expect(FixedPointMultiplier.shift(Int32.max, by: 1) == Int32.max)  // saturates
        #expect(try #require(FixedPointMultiplier(0.75)).powerOfTwoExponent == nil)
        // Equal to round_half_even(x · 2^e) everywhere, and to the general single-rounding path
        // away from exact ties.
        var g = SystemRandomNumberGenerator()
        for e in -30...4 {
            let p = try #require(FixedPointMultiplier(Double(sign: .plus, exponent: e, significand: 1)))
            #expect(p.powerOfTwoExponent == e)
            for _ in 0..<200 {
                let x = Int32.random(in: -(1 << 24)...(1 << 24), using: &g)
                let exact = Double(x) * p.real
                #expect(FixedPointMultiplier.shift(x, by: e) == Int32(clamping: Int64(exact.rounded(.toNearestOrEven))), "x=\(x) e=\(e)")
                if exact - exact.rounded(.down) != 0.5 {
                    #expect(FixedPointMultiplier.shift(x, by: e) == p.applySingleRounding(x), "x=\(x) e=\(e)")
                }
            }
        }
    }

    @Test("a pow2-quantized Dense runs shift-only in the integer executor, equal to the fake-quant engine")
    func integerExecutorShiftOnly() throws {
        let g = try StaticQuantizerTests.denseRelu()
        for activations in [QuantizedElementType.uint8, .int8] {
            var options = StaticQuantizationOptions()
            options.scheme = .pow2
            options.activations = activations
            let (q, _) = try StaticQuantizer.quantize(
                g, plan: QuantizationPlan(graph: g, options: options),
                statistics: StaticQuantizerTests.statistics(), options: options)
            for (name, a) in q.quantization {
                #expect(a.scales.allSatisfy { $0.significand == 1 }, "\(name): \(a.scales)")
            }
            let executor = try IntegerExecutor(graph: q)
            let multipliers = try #require(executor.multipliers(ofNode: "dense"))
            #expect(!multipliers.isEmpty && multipliers.allSatisfy { $0.m0 == 1 << 30 && $0.powerOfTwoExponent != nil })
            let x = try Tensor(shape: [4, 2], storage: [0.3, -0.7, 0.9, 0.05, -1, 1, 0.123, 0.456])
            let fake = try Executor(graph: q).run(x)
            let integer = try executor.run(x)
            #expect(integer == fake, "\(activations)")
        }
    }

    @Test("the integer executor refuses 16-bit models with a clear error")
    func refusesInt16() throws {
        let g = try StaticQuantizerTests.denseRelu()
        var options = StaticQuantizationOptions()
        options.activations = .uint16
        let (q, _) = try StaticQuantizer.quantize(
            g, plan: QuantizationPlan(graph: g, options: options),
            statistics: StaticQuantizerTests.statistics(), options: options)
        #expect(q.quantization["w"]?.type == .int16 && q.quantization["y"]?.type == .uint16)
        #expect(throws: ModelPressError.self) { _ = try IntegerExecutor(graph: q) }
    }
}
