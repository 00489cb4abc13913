import Foundation
import ONNXProto
import TensorCore

/// Conversions between IR tensors / integer lists and ONNX `TensorProto`s. Written tensors use
/// `raw_data` in little-endian order (float32 or int64); read tensors may use either raw or
/// typed fields.
enum ONNXTensor {
    /// A float32 initializer named `name` holding `tensor`.
    static func float(_ name: String, _ tensor: Tensor) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dataType = ONNXDataType.float
        proto.dims = tensor.shape.map(Int64.init)
        #if _endian(little)
            proto.rawData = tensor.storage.withUnsafeBytes { Data($0) }
        #else
            var data = Data(capacity: tensor.count * 4)
            for v in tensor.storage { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            proto.rawData = data
        #endif
        return proto
    }

    /// A float16 initializer named `name` holding `tensor` rounded to the nearest float16
    /// (little-endian bit patterns in `raw_data`).
    static func half(_ name: String, _ tensor: Tensor) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dataType = ONNXDataType.float16
        proto.dims = tensor.shape.map(Int64.init)
        var data = Data(capacity: tensor.count * 2)
        for v in tensor.storage { withUnsafeBytes(of: HalfPrecision.bits(v).littleEndian) { data.append(contentsOf: $0) } }
        proto.rawData = data
        return proto
    }

    /// An int64 initializer named `name` of shape `shape`.
    static func int64(_ name: String, _ values: [Int64], shape: [Int]) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dataType = ONNXDataType.int64
        proto.dims = shape.map(Int64.init)
        var data = Data(capacity: values.count * 8)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        proto.rawData = data
        return proto
    }

    /// An int4, uint4, int8, uint8, int16, uint16 or int32 initializer named `name` of shape
    /// `shape` (values in range, indexed from 0; a lazy collection is written without an array).
    static func quantized<Values: RandomAccessCollection>(
        _ name: String, _ values: Values, shape: [Int], type: QuantizedElementType
    ) -> Onnx_TensorProto where Values.Element == Int64, Values.Index == Int {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = shape.map(Int64.init)
        var data = Data(capacity: (values.count * type.bits + 7) / 8)
        switch type {
        case .int8:
            proto.dataType = ONNXDataType.int8
            for v in values { data.append(UInt8(bitPattern: Int8(clamping: v))) }
        case .uint8:
            proto.dataType = ONNXDataType.uint8
            for v in values { data.append(UInt8(clamping: v)) }
        case .int16:
            proto.dataType = ONNXDataType.int16
            for v in values { withUnsafeBytes(of: Int16(clamping: v).littleEndian) { data.append(contentsOf: $0) } }
        case .uint16:
            proto.dataType = ONNXDataType.uint16
            for v in values { withUnsafeBytes(of: UInt16(clamping: v).littleEndian) { data.append(contentsOf: $0) } }
        case .int32:
            proto.dataType = ONNXDataType.int32
            for v in values { withUnsafeBytes(of: Int32(clamping: v).littleEndian) { data.append(contentsOf: $0) } }
        case .int4, .uint4:
            // Two per byte, the first element in the low nibble (ONNX's packing).
            proto.dataType = type == .int4 ? ONNXDataType.int4 : ONNXDataType.uint4
            for pair in stride(from: 0, to: values.count, by: 2) {
                let low = UInt8(truncatingIfNeeded: values[pair]) & 0x0F
                let high = pair + 1 < values.count ? UInt8(truncatingIfNeeded: values[pair + 1]) & 0x0F : 0
                data.append(low | high << 4)
            }
        }
        proto.rawData = data
        return proto
    }

    /// The shape of `proto`, checked (non-negative, no overflow).
    static func shape(of proto: Onnx_TensorProto, _ fail: (String) -> ModelPressError) throws -> [Int] {
        let dims = proto.dims.map { Int(clamping: $0) }
        guard dims.allSatisfy({ $0 >= 0 }), Checked.product(dims) != nil else { throw fail("tensor '\(proto.name)' has invalid dims \(proto.dims)") }
        return dims
    }

    /// The values of a float, float16, double, or integer tensor as float32 (`fail` builds the error).
    static func floats(_ proto: Onnx_TensorProto, _ fail: (String) -> ModelPressError) throws -> Tensor {
        let shape = try shape(of: proto, fail)
        let count = Checked.product(shape) ?? 0
        let values: [Float]
        switch proto.dataType {
        case ONNXDataType.float:
            values = proto.rawData.isEmpty ? proto.floatData : try decodeFloats(proto.rawData, count: count, proto, fail)
        case ONNXDataType.float16:
            // Typed storage keeps one bit pattern per int32_data element.
            values =
                proto.rawData.isEmpty
                ? proto.int32Data.map { HalfPrecision.value(bits: UInt16(truncatingIfNeeded: $0)) }
                : try decode(proto.rawData, count: count, size: 2, proto, fail) { HalfPrecision.value(bits: UInt16(truncatingIfNeeded: $0)) }
        case ONNXDataType.double:
            values =
                proto.rawData.isEmpty
                ? proto.doubleData.map(Float.init)
                : try decode(proto.rawData, count: count, size: 8, proto, fail) { Float(Double(bitPattern: $0)) }
        default:
            values = try int64s(proto, fail).map(Float.init)
        }
        guard values.count == count else { throw fail("tensor '\(proto.name)' holds \(values.count) values for shape \(shape)") }
        return try Tensor(shape: shape, storage: values)
    }

    /// The values of an integer tensor (int64, int32, int16, uint16, int8, uint8, int4, uint4, bool) as Int64.
    static func int64s(_ proto: Onnx_TensorProto, _ fail: (String) -> ModelPressError) throws -> [Int64] {
        let shape = try shape(of: proto, fail)
        let count = Checked.product(shape) ?? 0
        let values: [Int64]
        switch proto.dataType {
        case ONNXDataType.int64:
            values = proto.rawData.isEmpty ? proto.int64Data : try decode(proto.rawData, count: count, size: 8, proto, fail) { Int64(bitPattern: $0) }
        case ONNXDataType.int32:
            values =
                proto.rawData.isEmpty
                ? proto.int32Data.map(Int64.init)
                : try decode(proto.rawData, count: count, size: 4, proto, fail) { Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: $0))) }
        case ONNXDataType.int8:
            values =
                proto.rawData.isEmpty
                ? proto.int32Data.map(Int64.init)
                : try decode(proto.rawData, count: count, size: 1, proto, fail) { Int64(Int8(bitPattern: UInt8(truncatingIfNeeded: $0))) }
        case ONNXDataType.int16:
            values =
                proto.rawData.isEmpty
                ? proto.int32Data.map(Int64.init)
                : try decode(proto.rawData, count: count, size: 2, proto, fail) { Int64(Int16(bitPattern: UInt16(truncatingIfNeeded: $0))) }
        case ONNXDataType.uint16:
            values = proto.rawData.isEmpty ? proto.int32Data.map(Int64.init) : try decode(proto.rawData, count: count, size: 2, proto, fail) { Int64($0) }
        case ONNXDataType.int4, ONNXDataType.uint4:
            // Two per byte, low nibble first, in raw_data (or one packed byte per int32_data element).
            let bytes = proto.rawData.isEmpty ? Data(proto.int32Data.map { UInt8(truncatingIfNeeded: $0) }) : proto.rawData
            guard bytes.count == (count + 1) / 2 else { throw fail("tensor '\(proto.name)' has \(bytes.count) bytes of 4-bit data for \(count) values") }
            let signed = proto.dataType == ONNXDataType.int4
            values = (0..<count).map { i in
                let nibble = Int64((bytes[bytes.startIndex + i / 2] >> (i % 2 == 0 ? 0 : 4)) & 0x0F)
                return signed && nibble >= 8 ? nibble - 16 : nibble
            }
        case ONNXDataType.uint8, ONNXDataType.bool:
            values = proto.rawData.isEmpty ? proto.int32Data.map(Int64.init) : try decode(proto.rawData, count: count, size: 1, proto, fail) { Int64($0) }
        default:
            throw fail("tensor '\(proto.name)' has data type \(proto.dataType), which ModelPress does not read (float, double and integer tensors only)")
        }
        guard values.count == count else { throw fail("tensor '\(proto.name)' holds \(values.count) values for shape \(shape)") }
        return values
    }

    /// Decodes `count` little-endian float32 values from `raw` (a plain copy on little-endian hosts).
    private static func decodeFloats(
        _ raw: Data, count: Int, _ proto: Onnx_TensorProto,
        _ fail: (String) -> ModelPressError
    ) throws -> [Float] {
        #if _endian(little)
            guard let bytes = Checked.multiply(count, 4), raw.count == bytes else {
                throw fail("tensor '\(proto.name)' has \(raw.count) bytes of raw data, expected \(count) float32 values")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { destination in _ = raw.copyBytes(to: destination) }
            return values
        #else
            return try decode(raw, count: count, size: 4, proto, fail) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
        #endif
    }

    /// Decodes `count` little-endian elements of `size` bytes from `raw`.
    private static func decode<T>(
        _ raw: Data, count: Int, size: Int, _ proto: Onnx_TensorProto,
        _ fail: (String) -> ModelPressError, _ make: (UInt64) -> T
    ) throws -> [T] {
        guard let bytes = Checked.multiply(count, size), raw.count == bytes else {
            throw fail("tensor '\(proto.name)' has \(raw.count) bytes of raw data, expected \(count * size)")
        }
        return raw.withUnsafeBytes { bytes in
            (0..<count).map { i in
                var bits: UInt64 = 0
                for b in 0..<size { bits |= UInt64(bytes[i * size + b]) << (8 * UInt64(b)) }
                return make(bits)
            }
        }
    }
}
