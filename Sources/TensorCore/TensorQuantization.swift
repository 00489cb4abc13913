/// Integer element types a quantized value is stored as.
public enum QuantizedElementType: String, Equatable, Hashable, Sendable, CaseIterable {
    /// Signed 8-bit: weights, symmetric activations.
    case int8
    /// Unsigned 8-bit: asymmetric activations.
    case uint8
    /// Signed 16-bit: `--bits 16` weights, symmetric activations (ONNX Q/DQ from opset 21).
    case int16
    /// Unsigned 16-bit: `--bits 16` asymmetric activations (ONNX Q/DQ from opset 21).
    case uint16
    /// Signed 32-bit: biases on the accumulator's grid.
    case int32

    /// Smallest representable value.
    public var min: Int64 {
        switch self {
        case .int8: return -128
        case .uint8: return 0
        case .int16: return Int64(Int16.min)
        case .uint16: return 0
        case .int32: return Int64(Int32.min)
        }
    }

    /// Largest representable value.
    public var max: Int64 {
        switch self {
        case .int8: return 127
        case .uint8: return 255
        case .int16: return Int64(Int16.max)
        case .uint16: return Int64(UInt16.max)
        case .int32: return Int64(Int32.max)
        }
    }

    /// Bits per element.
    public var bits: Int {
        switch self {
        case .int8, .uint8: return 8
        case .int16, .uint16: return 16
        case .int32: return 32
        }
    }

    /// Whether the type is signed.
    public var isSigned: Bool { min < 0 }
}

/// The per-value quantization annotation of the graph IR: the value is stored as integers
/// `q = clamp(round_half_even(x / scale) + zeroPoint)` and every reader sees
/// `scale · (q − zeroPoint)` — ONNX QuantizeLinear followed by DequantizeLinear. Per tensor
/// (`axis == nil`, one scale) or per channel along `axis` (one scale and zero point per index).
public struct TensorQuantization: Equatable, Hashable, Sendable {
    /// Scale per channel (one element per tensor); all finite and > 0.
    public var scales: [Float]
    /// Zero point per channel (same count as `scales`), within `type`'s range.
    public var zeroPoints: [Int32]
    /// Channel axis (batch axis included for activations) when per channel, nil per tensor.
    public var axis: Int?
    /// Integer type.
    public var type: QuantizedElementType

    /// An annotation with the given parameters.
    public init(scales: [Float], zeroPoints: [Int32], axis: Int?, type: QuantizedElementType) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = axis
        self.type = type
    }

    /// Bits per stored element.
    public var bits: Int { type.bits }

    /// `clamp(round_half_even(x / scale) + zeroPoint)` for channel `c` (ONNX QuantizeLinear).
    @inline(__always)
    public func quantize(_ x: Float, channel c: Int = 0) -> Int64 {
        let q = Double((x / scales[c]).rounded(.toNearestOrEven)) + Double(zeroPoints[c])
        guard !q.isNaN else { return Int64(zeroPoints[c]) }
        return Int64(Swift.max(Double(type.min), Swift.min(Double(type.max), q)))
    }

    /// `scale · (q − zeroPoint)` for channel `c` (ONNX DequantizeLinear).
    @inline(__always)
    public func dequantize(_ q: Int64, channel c: Int = 0) -> Float {
        scales[c] * Float(q - Int64(zeroPoints[c]))
    }

    /// Checks the parameters against a value of `shape`; `fail` builds the error.
    public func validate(for shape: [Int], _ fail: (String) -> ModelPressError) throws {
        guard !scales.isEmpty, scales.count == zeroPoints.count else { throw fail("has \(scales.count) scales and \(zeroPoints.count) zero points") }
        guard scales.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw fail("has a scale that is not a positive finite number") }
        guard zeroPoints.allSatisfy({ Int64($0) >= type.min && Int64($0) <= type.max }) else { throw fail("has a zero point outside the \(type.rawValue) range") }
        if let axis {
            guard axis >= 0, axis < shape.count, shape[axis] == scales.count else {
                throw fail("has \(scales.count) per-channel parameters along axis \(axis) of a value of shape \(shape)")
            }
        } else if scales.count != 1 {
            throw fail("has \(scales.count) scales but no channel axis")
        }
    }

    /// Quantizes then dequantizes `tensor` in place (fake quantization), channel by channel
    /// along `axis` when per channel.
    public func fakeQuantize(_ tensor: inout Tensor) {
        let shape = tensor.shape
        let channels = scales.count
        let inner: Int
        if let axis, axis < shape.count {
            inner = shape[(axis + 1)...].reduce(1, *)
        } else {
            inner = tensor.count
        }
        tensor.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                let c = channels == 1 ? 0 : (i / Swift.max(1, inner)) % channels
                p[i] = dequantize(quantize(p[i], channel: c), channel: c)
            }
        }
    }
}
