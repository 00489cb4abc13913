/// A positive real multiplier `M` (e.g. `s_in·s_w / s_out`) as integer-only runtimes apply it:
/// `M ≈ m0 · 2^(shift − 31)` with `m0 ∈ [2^30, 2^31)` (or 0), applied to an int32 accumulator
/// with a rounding-doubling high multiply and a rounding arithmetic shift (gemmlowp / TFLite
/// semantics: the high multiply rounds ties toward +∞ and saturates its one overflow case,
/// the shift rounds ties away from zero).
public struct FixedPointMultiplier: Equatable, Sendable {
    /// The normalised mantissa, in `[2^30, 2^31)`, or 0 for `M = 0`.
    public let m0: Int32
    /// Power of two: positive shifts left before the high multiply, negative shifts right after.
    public let shift: Int

    /// The multiplier nearest `real` (≥ 0). Fails for negative, non-finite or too large values.
    public init?(_ real: Double) {
        guard real.isFinite, real >= 0, real < Double(Int32.max) else { return nil }
        if real == 0 {
            m0 = 0
            shift = 0
            return
        }
        // real = q · 2^e with q ∈ [0.5, 1): m0 = round(q · 2^31).
        var e = real.exponent + 1
        var q = (real.significand / 2 * Double(1 << 31)).rounded()
        if q == Double(1 << 31) {
            q /= 2
            e += 1
        }
        // Shifts beyond 31 either way leave nothing (tiny M) or overflow (huge M) in int32.
        guard e >= -31 else {
            m0 = 0
            shift = 0
            return
        }
        m0 = Int32(q)
        shift = e
    }

    /// The real value this multiplier represents.
    public var real: Double { Double(m0) * pow2(shift - 31) }

    /// `round(x · M)` computed in integers exactly as an integer-only runtime does.
    @inline(__always)
    public func apply(_ x: Int32) -> Int32 {
        let left = max(shift, 0), right = max(-shift, 0)
        let shifted = left > 0 ? saturatingShiftLeft(x, left) : x
        return roundingDivideByPowerOfTwo(saturatingRoundingDoublingHighMul(shifted, m0), right)
    }
}

/// `a · b / 2^31` rounded to nearest with ties toward +∞ (gemmlowp's nudge, then division
/// truncating toward zero): the high 32 bits of the doubled product; the single overflow case
/// (`a = b = Int32.min`) saturates to `Int32.max`.
@inline(__always)
public func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
    if a == Int32.min && b == Int32.min { return Int32.max }
    let ab = Int64(a) * Int64(b)
    let nudge: Int64 = ab >= 0 ? (1 << 30) : (1 - (1 << 30))
    // Division truncates toward zero, as gemmlowp's does.
    return Int32(truncatingIfNeeded: (ab + nudge) / (1 << 31))
}

/// `x / 2^exponent` rounded half away from zero (an arithmetic right shift with rounding).
@inline(__always)
public func roundingDivideByPowerOfTwo(_ x: Int32, _ exponent: Int) -> Int32 {
    guard exponent > 0 else { return x }
    guard exponent < 32 else { return 0 }
    let mask = Int32(truncatingIfNeeded: (Int64(1) << exponent) - 1)
    let remainder = x & mask
    let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
    return (x >> Int32(exponent)) + (remainder > threshold ? 1 : 0)
}

@inline(__always)
private func saturatingShiftLeft(_ x: Int32, _ n: Int) -> Int32 {
    let wide = Int64(x) << Int64(n)
    return Int32(clamping: wide)
}

@inline(__always)
func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }
