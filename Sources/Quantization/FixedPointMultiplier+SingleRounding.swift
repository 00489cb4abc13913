/// How an integer kernel rounds when it applies a `FixedPointMultiplier`.
public enum RequantizationRounding: String, Sendable, CaseIterable {
    /// gemmlowp / TFLite reference: rounding-doubling high multiply, then a rounding right
    /// shift (two roundings: ~0.1–0.2% of values land one step from `round(x·M)`).
    case doubleRounding = "double"
    /// One 64-bit product and one rounding shift (TFLite's `TFLITE_SINGLE_ROUNDING`, CMSIS-NN):
    /// `round_half_up(x · m0 / 2^(31 − shift))`, equal to `round(x·M)` up to exact ties.
    case singleRounding = "single"
}

extension FixedPointMultiplier {
    /// `round(x · M)` with one rounding: `(x · m0 + 2^(s−1)) >> s` with `s = 31 − shift`,
    /// computed in 64 bits and saturated to int32.
    @inline(__always)
    public func applySingleRounding(_ x: Int32) -> Int32 {
        let total = 31 - shift
        let product = Int64(x) * Int64(m0)
        guard total > 0 else { return Int32(clamping: product << Int64(min(-total, 32))) }
        guard total < 63 else { return 0 }
        return Int32(clamping: (product + (Int64(1) << Int64(total - 1))) >> Int64(total))
    }

    /// `apply` or `applySingleRounding`, as `rounding` says.
    @inline(__always)
    public func apply(_ x: Int32, rounding: RequantizationRounding) -> Int32 {
        rounding == .doubleRounding ? apply(x) : applySingleRounding(x)
    }
}

extension FixedPointMultiplier {
    /// `e` when the multiplier is exactly `2^e` (`m0 = 2^30`, as every `--scheme pow2`
    /// requantization is), else nil.
    public var powerOfTwoExponent: Int? { m0 == 1 << 30 ? shift - 1 : nil }

    /// `x · 2^e` as a pure shift: left shift (saturated) for `e ≥ 0`, else the right shift by
    /// `r = −e` rounded half to even (`x >> r`, plus one when the dropped bits exceed half, or
    /// equal it and the result is odd). Half to even is ONNX QuantizeLinear's rule, which
    /// onnxruntime follows; with power-of-two scales exact ties are common (one value in 2^r),
    /// so CMSIS-NN's ties-up `NN_ROUND` would differ from onnxruntime on ~1–3% of values.
    /// Away from ties it equals `applySingleRounding` for the multiplier `2^e`.
    @inline(__always)
    public static func shift(_ x: Int32, by e: Int) -> Int32 {
        if e >= 0 { return Int32(clamping: Int64(x) << Int64(Swift.min(e, 32))) }
        let r = -e
        guard r < 40 else { return 0 }
        let wide = Int64(x), half = Int64(1) << Int64(r - 1)
        let floor = wide >> Int64(r), dropped = wide - (floor << Int64(r))
        let up = dropped > half || (dropped == half && floor & 1 == 1)
        return Int32(clamping: floor + (up ? 1 : 0))
    }
}
