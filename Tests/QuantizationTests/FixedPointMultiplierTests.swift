import Quantization
import Testing
import _TestSupport

/// The requantization multiplier, worked by hand: `M = m0 · 2^(shift − 31)`, `m0 ∈ [2^30, 2^31)`.
@Suite("fixed-point requantization multiplier")
struct FixedPointMultiplierTests {
    @Test("hand-worked decompositions")
    func decompositions() throws {
        // 0.5 = 0.5 · 2^0 → m0 = 0.5 · 2^31
        #expect(FixedPointMultiplier(0.5) == FixedPointMultiplier.exactly(m0: 1 << 30, shift: 0))
        // 0.999 · 2^31 = 2145336164.35… → 2145336164
        #expect(FixedPointMultiplier(0.999) == FixedPointMultiplier.exactly(m0: 2_145_336_164, shift: 0))
        // 1e-4 = 0.8192 · 2^-13; 0.8192 · 2^31 = 1759218604.44… → 1759218604
        #expect(FixedPointMultiplier(1e-4) == FixedPointMultiplier.exactly(m0: 1_759_218_604, shift: -13))
        // 1 − 2^-40 rounds up to 2^31: renormalised to 2^30 with shift 1 (i.e. exactly 1.0)
        #expect(FixedPointMultiplier(1 - 0x1p-40) == FixedPointMultiplier.exactly(m0: 1 << 30, shift: 1))
        // 3 = 0.75 · 2^2
        #expect(FixedPointMultiplier(3) == FixedPointMultiplier.exactly(m0: 1_610_612_736, shift: 2))
        // far below int32 resolution → zero; zero → zero; negative / NaN → no multiplier
        #expect(FixedPointMultiplier(1e-12)?.m0 == 0)
        #expect(FixedPointMultiplier(0)?.m0 == 0)
        #expect(FixedPointMultiplier(-0.5) == nil)
        #expect(FixedPointMultiplier(.nan) == nil)
    }

    @Test("applying: hand-worked products and rounding")
    func application() throws {
        let half = try #require(FixedPointMultiplier(0.5))
        #expect(half.apply(100) == 50)
        #expect(half.apply(3) == 2)  // 1.5: the high multiply rounds ties toward +∞
        #expect(half.apply(-3) == -1)  // −1.5 → −1 (gemmlowp), not −2
        let three = try #require(FixedPointMultiplier(3))
        #expect(three.apply(10) == 30)  // left shift 2, then ·0.75
        let small = try #require(FixedPointMultiplier(1e-4))
        #expect(small.apply(100_000) == 10)  // 100000 · 0.8192 = 81920, then 81920 / 2^13 = 10
        #expect(small.apply(-15_000) == -2)  // −1.5 after the shift rounds away from zero
        #expect(FixedPointMultiplier(1e-12)?.apply(Int32.max) == 0)
    }

    @Test("rounding primitives against their definitions")
    func primitives() {
        #expect(saturatingRoundingDoublingHighMul(Int32.min, Int32.min) == Int32.max)
        #expect(saturatingRoundingDoublingHighMul(1 << 30, 1 << 30) == 1 << 29)
        #expect(roundingDivideByPowerOfTwo(5, 1) == 3)  // 2.5 → 3
        #expect(roundingDivideByPowerOfTwo(-5, 1) == -3)  // −2.5 → −3
        #expect(roundingDivideByPowerOfTwo(-4, 1) == -2)
        #expect(roundingDivideByPowerOfTwo(7, 2) == 2)  // 1.75 → 2
        #expect(roundingDivideByPowerOfTwo(9, 0) == 9)
    }

    @Test("any multiplier in (0, 8) and accumulator in ±2^24: within one of round(x·M)")
    func accuracy() throws {
        var g = SeededGenerator(seed: 11)
        for _ in 0..<20_000 {
            let m = Double.random(in: 1e-6..<8, using: &g)
            let x = Int32.random(in: -(1 << 24)...(1 << 24), using: &g)
            let fixed = try #require(FixedPointMultiplier(m))
            #expect(abs(fixed.real - m) <= m * 0x1p-30, "representation of \(m)")
            let exact = (Double(x) * m).rounded()
            #expect(abs(Double(fixed.apply(x)) - exact) <= 1, "x=\(x) M=\(m): \(fixed.apply(x)) vs \(exact)")
        }
    }
}

extension FixedPointMultiplier {
    /// The multiplier with these exact parts (built through its public initializer).
    static func exactly(m0: Int32, shift: Int) -> FixedPointMultiplier? {
        FixedPointMultiplier(Double(m0) * Double(sign: .plus, exponent: shift - 31, significand: 1))
    }
}
