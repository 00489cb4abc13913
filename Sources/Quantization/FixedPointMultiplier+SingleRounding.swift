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
