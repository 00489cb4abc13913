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
    /// Signed 4-bit: block-wise weight-only weights (ONNX INT4 from opset 21, two per byte).
    case int4
    /// Unsigned 4-bit: asymmetric block-wise weight-only weights (ONNX UINT4 from opset 21).
    case uint4

    /// Smallest representable value.
    public var min: Int64 {
        switch self {
        case .int8: return -128
        case .uint8: return 0
        case .int16: return Int64(Int16.min)
        case .uint16: return 0
        case .int32: return Int64(Int32.min)
        case .int4: return -8
        case .uint4: return 0
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
        case .int4: return 7
        case .uint4: return 15
        }
    }

    /// Bits per element.
    public var bits: Int {
        switch self {
        case .int8, .uint8: return 8
        case .int16, .uint16: return 16
        case .int32: return 32
        case .int4, .uint4: return 4
        }
    }

    /// Whether the type is signed.
    public var isSigned: Bool { min < 0 }
}

/// The per-value quantization annotation of the graph IR: the value is stored as integers
/// `q = clamp(round_half_even(x / scale) + zeroPoint)` and every reader sees
/// `scale · (q − zeroPoint)` — ONNX QuantizeLinear followed by DequantizeLinear. Per tensor
/// (`axis == nil`, one scale), per channel along `axis` (one scale and zero point per index), or
/// per block (`blockSize`: ONNX's blocked DequantizeLinear, one scale and zero point per run of
/// `blockSize` indices along `axis` at every position of the other axes; the last run may be shorter).
/// With `halfScales` the scales are float16 values and readers see `scale · (q − zeroPoint)`
/// rounded to float16, as DequantizeLinear with a float16 scale writes it.
public struct TensorQuantization: Equatable, Hashable, Sendable {
    /// Scale per channel (one element per tensor); all finite and > 0.
    public var scales: [Float]
    /// Zero point per channel (same count as `scales`), within `type`'s range.
    public var zeroPoints: [Int32]
    /// Channel axis (batch axis included for activations) when per channel, nil per tensor.
    public var axis: Int?
    /// Integer type.
    public var type: QuantizedElementType
    /// Indices along `axis` that share one scale (nil: per tensor or per channel). The scales
    /// are laid out row-major over the value's shape with `axis` cut to ⌈size / blockSize⌉.
    public var blockSize: Int?
    /// Scales stored as float16 (each `scales` element is a float16 value) and dequantized
    /// values rounded to float16; false: float32 scales and values.
    public var halfScales: Bool

    /// An annotation with the given parameters.
    public init(scales: [Float], zeroPoints: [Int32], axis: Int?, type: QuantizedElementType, blockSize: Int? = nil, halfScales: Bool = false) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = axis
        self.type = type
        self.blockSize = blockSize
        self.halfScales = halfScales
    }

    /// The shape of the scale (and zero point) tensor for a value of `shape`: [] per tensor,
    /// [channels] per channel, `shape` with `axis` cut to ⌈size / blockSize⌉ per block.
    public func parameterShape(for shape: [Int]) -> [Int] {
        guard let axis else { return [] }
        guard let blockSize, axis < shape.count else { return [scales.count] }
        var cut = shape
        cut[axis] = (shape[axis] + blockSize - 1) / blockSize
        return cut
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

    /// `scale · (q − zeroPoint)` for channel `c` (ONNX DequantizeLinear), rounded to float16
    /// with `halfScales`.
    @inline(__always)
    public func dequantize(_ q: Int64, channel c: Int = 0) -> Float {
        let x = scales[c] * Float(q - Int64(zeroPoints[c]))
        return halfScales ? HalfPrecision.round(x) : x
    }

    /// The float interval channel `c` can represent, `dequantize(type.min) … dequantize(type.max)`:
    /// values outside it are clipped.
    public func representableRange(channel c: Int = 0) -> (lo: Float, hi: Float) {
        (dequantize(type.min, channel: c), dequantize(type.max, channel: c))
    }

    /// Checks the parameters against a value of `shape`; `fail` builds the error.
    public func validate(for shape: [Int], _ fail: (String) -> ModelPressError) throws {
        guard !scales.isEmpty, scales.count == zeroPoints.count else { throw fail("has \(scales.count) scales and \(zeroPoints.count) zero points") }
        guard scales.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw fail("has a scale that is not a positive finite number") }
        guard !halfScales || scales.allSatisfy({ HalfPrecision.round($0) == $0 }) else { throw fail("has a float16 scale that float16 cannot hold") }
        guard zeroPoints.allSatisfy({ Int64($0) >= type.min && Int64($0) <= type.max }) else { throw fail("has a zero point outside the \(type.rawValue) range") }
        if let blockSize {
            guard blockSize >= 1, let axis, axis >= 0, axis < shape.count, Checked.product(parameterShape(for: shape)) == scales.count else {
                throw fail("has \(scales.count) block parameters (block size \(blockSize), axis \(axis.map(String.init) ?? "none")) for a value of shape \(shape)")
            }
        } else if let axis {
            guard axis >= 0, axis < shape.count, shape[axis] == scales.count else {
                throw fail("has \(scales.count) per-channel parameters along axis \(axis) of a value of shape \(shape)")
            }
        } else if scales.count != 1 {
            throw fail("has \(scales.count) scales but no channel axis")
        }
    }

    /// Quantizes then dequantizes `tensor` in place (fake quantization), channel by channel
    /// or block by block along `axis`.
    public func fakeQuantize(_ tensor: inout Tensor) {
        let index = ParameterIndexing(self, shape: tensor.shape)
        tensor.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                let c = index(i)
                p[i] = dequantize(quantize(p[i], channel: c), channel: c)
            }
        }
    }
}

/// The parameter (scale and zero point) index of each element of a quantized value of one
/// shape, row-major: 0 per tensor, the `axis` index per channel, the block per block.
public struct ParameterIndexing: Sendable {
    private let channels: Int, inner: Int, size: Int, block: Int, blocks: Int

    /// The indexing of `q`'s parameters over a value of `shape`.
    public init(_ q: TensorQuantization, shape: [Int]) {
        channels = q.scales.count
        let axis = q.axis.map { Swift.min(Swift.max(0, $0), Swift.max(0, shape.count - 1)) }
        inner = Swift.max(1, axis.map { shape.dropFirst($0 + 1).reduce(1, *) } ?? 1)
        size = Swift.max(1, axis.map { shape.isEmpty ? 1 : shape[$0] } ?? 1)
        block = q.blockSize ?? 0
        blocks = block > 0 ? (size + block - 1) / block : 0
    }

    /// The parameter index of element `i`.
    @inline(__always)
    public func callAsFunction(_ i: Int) -> Int {
        if channels == 1 { return 0 }
        guard block > 0 else { return (i / inner) % channels }
        let n = i % inner, d = (i / inner) % size, o = i / (inner * size)
        return (o * blocks + d / block) * inner + n
    }
}
