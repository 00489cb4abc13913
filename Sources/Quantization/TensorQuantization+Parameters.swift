import TensorCore

/// Choosing affine quantization parameters for a value from its range.
extension TensorQuantization {
    /// Asymmetric parameters covering `[lo, hi]` (widened to include 0 so zero is exact):
    /// `scale = (hi − lo) / (qmax − qmin)`, `zeroPoint = round(qmin − lo / scale)`.
    public static func asymmetric(min lo: Float, max hi: Float, type: QuantizedElementType) -> TensorQuantization {
        let lo = Swift.min(lo, 0), hi = Swift.max(hi, 0)
        let levels = Float(type.max - type.min)
        let scale = hi > lo ? (hi - lo) / levels : 1
        let zero = Swift.max(type.min, Swift.min(type.max, Int64((Float(type.min) - lo / scale).rounded())))
        return TensorQuantization(scales: [scale], zeroPoints: [Int32(zero)], axis: nil, type: type)
    }

    /// Symmetric parameters for `|x| ≤ bound` with zero point 0 (the signed range's negative
    /// end unused, so `−bound` and `bound` are both exact): `scale = bound / qmax`.
    public static func symmetric(bound: Float, type: QuantizedElementType) -> TensorQuantization {
        let scale = bound > 0 ? bound / Float(type.max) : 1
        return TensorQuantization(scales: [scale], zeroPoints: [0], axis: nil, type: type)
    }

    /// Asymmetric parameters with a power-of-two scale covering `[lo, hi]` (widened to hold 0):
    /// `scale = 2^ceil(log2((hi − lo) / levels))`; the zero point is the one that clips least:
    /// `round(qmin − lo / scale)`, lowered when needed so that `hi` still fits below `qmax`.
    public static func asymmetricPowerOfTwo(min lo: Float, max hi: Float, type: QuantizedElementType) -> TensorQuantization {
        let lo = Swift.min(lo, 0), hi = Swift.max(hi, 0)
        guard hi > lo else { return TensorQuantization(scales: [1], zeroPoints: [Int32(type.min)], axis: nil, type: type) }
        let scale = Float(pow2(Double((hi - lo) / Float(type.max - type.min)).log2Ceiling))
        var zero = Int64((Float(type.min) - lo / scale).rounded())
        // The rounded-up scale leaves room: keep both ends inside when one rounding would clip.
        let top = Int64((hi / scale).rounded())
        if zero + top > type.max { zero = type.max - top }
        zero = Swift.max(type.min, Swift.min(type.max, zero))
        return TensorQuantization(scales: [scale], zeroPoints: [Int32(zero)], axis: nil, type: type)
    }

    /// The same parameters with every scale rounded up to a power of two (Qm.n fixed point:
    /// requantization becomes a pure shift; rounding up never adds clipping).
    public func powerOfTwo() -> TensorQuantization {
        var p = self
        p.scales = scales.map { Float(pow2(Double($0).log2Ceiling)) }
        return p
    }
}

extension Double {
    /// `ceil(log2(self))` for a positive value, exact at powers of two.
    var log2Ceiling: Int {
        significand == 1 ? exponent : exponent + 1
    }
}
