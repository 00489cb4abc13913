/// Integer formats of quantized tensors.
public enum QuantizedType: String, Equatable, Sendable, Codable {
    case int8, uint8, int16

    /// Smallest representable value.
    public var min: Int32 { self == .uint8 ? 0 : (self == .int8 ? -128 : -32768) }
    /// Largest representable value.
    public var max: Int32 { self == .uint8 ? 255 : (self == .int8 ? 127 : 32767) }
    /// Bits per element.
    public var bits: Int { self == .int16 ? 16 : 8 }
}

/// Affine quantization of one tensor: `real = scale · (q − zeroPoint)`, per tensor (one scale)
/// or per channel along `axis` (one scale and zero point per channel).
public struct AffineQuantization: Equatable, Sendable, Codable {
    /// Scale per channel (one element when per tensor); all > 0.
    public var scales: [Float]
    /// Zero point per channel, within the type's range.
    public var zeroPoints: [Int32]
    /// Channel axis for per-channel parameters, nil per tensor.
    public var axis: Int?
    /// Integer type.
    public var type: QuantizedType

    /// Parameters as given.
    public init(scales: [Float], zeroPoints: [Int32], axis: Int?, type: QuantizedType) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = axis
        self.type = type
    }

    /// Asymmetric parameters covering `[lo, hi]` (widened to include 0 so zero is exact):
    /// `scale = (hi − lo) / (qmax − qmin)`, `zeroPoint = round(qmin − lo / scale)`.
    public static func asymmetric(min lo: Float, max hi: Float, type: QuantizedType) -> AffineQuantization {
        let lo = Swift.min(lo, 0), hi = Swift.max(hi, 0)
        let levels = Float(type.max - type.min)
        let scale = hi > lo ? (hi - lo) / levels : 1
        let zero = Int32((Float(type.min) - lo / scale).rounded()).clamped(type.min, type.max)
        return AffineQuantization(scales: [scale], zeroPoints: [zero], axis: nil, type: type)
    }

    /// Symmetric parameters for `|x| ≤ bound` with zero point 0 (the signed range's negative
    /// end unused, so `−bound` and `bound` are both exact): `scale = bound / qmax`.
    public static func symmetric(bound: Float, type: QuantizedType) -> AffineQuantization {
        let scale = bound > 0 ? bound / Float(type.max) : 1
        return AffineQuantization(scales: [scale], zeroPoints: [0], axis: nil, type: type)
    }

    /// `clamp(round(x / scale) + zeroPoint)`, rounding half to even as ONNX QuantizeLinear does.
    @inline(__always)
    public func quantize(_ x: Float, channel: Int = 0) -> Int32 {
        let q = (x / scales[channel]).rounded(.toNearestOrEven) + Float(zeroPoints[channel])
        guard q.isFinite else { return q > 0 ? type.max : type.min }
        return Int32(Swift.max(Swift.min(q, Float(type.max)), Float(type.min)))
    }

    /// `scale · (q − zeroPoint)`.
    @inline(__always)
    public func dequantize(_ q: Int32, channel: Int = 0) -> Float {
        scales[channel] * Float(q - zeroPoints[channel])
    }

    /// The same parameters with every scale rounded up to a power of two (Qm.n fixed point:
    /// requantization becomes a pure shift).
    public func powerOfTwo() -> AffineQuantization {
        var p = self
        p.scales = scales.map { Float(pow2(Int(Double($0).log2Ceiling))) }
        return p
    }
}

extension Int32 {
    /// The value limited to `[lo, hi]`.
    func clamped(_ lo: Int32, _ hi: Int32) -> Int32 { Swift.max(lo, Swift.min(hi, self)) }
}

extension Double {
    /// `ceil(log2(self))` for a positive value, exact at powers of two.
    var log2Ceiling: Double {
        let e = exponent
        return significand == 1 ? Double(e) : Double(e + 1)
    }
}
