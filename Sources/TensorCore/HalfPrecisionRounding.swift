/// IEEE 754 binary16 ("float16", "half"): the format `--precision fp16` stores and computes in.
public enum HalfPrecision {
    /// The largest finite float16, 65504; anything of larger magnitude becomes ±infinity.
    public static let largestFinite: Float = 65504
    /// The smallest positive float16 (subnormal), 2⁻²⁴ ≈ 5.96e-8; smaller magnitudes round to 0.
    public static let smallestPositive: Float = 0x1p-24

    /// `x` rounded to the nearest float16 (ties to even, subnormals kept, overflow to ±∞), as float32.
    @inline(__always)
    public static func round(_ x: Float) -> Float { Float(Float16(x)) }

    /// The float16 bit pattern of `x` (round to nearest even), as stored in ONNX FLOAT16 tensors.
    @inline(__always)
    public static func bits(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    /// The float32 value of a float16 bit pattern.
    @inline(__always)
    public static func value(bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }
}

extension Tensor {
    /// Rounds every element to the nearest float16 in place (what storing the tensor as float16 keeps).
    public mutating func roundToHalfPrecision() {
        storage.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = HalfPrecision.round(buffer[i]) }
        }
    }
}
