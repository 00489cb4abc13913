import CSystemZlib
import Foundation
import TensorCore

/// gzip (RFC 1952) through the system zlib, level 9: how small a weight blob gets under a
/// general-purpose compressor (zip, HTTP transfer encoding), which is where the zeros of a
/// dense-stored pruned model pay off.
public enum Gzip {
    /// The gzip-compressed size of `bytes` (deterministic: no timestamp or file name in the header).
    public static func compressedSize(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper.
        guard deflateInit2_(&stream, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ModelPressError.internalError("zlib: deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var out = [UInt8](repeating: 0, count: max(bound, 64))
        let status: Int32 = out.withUnsafeMutableBufferPointer { o in
            stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(bytes.count)
            stream.next_out = o.baseAddress
            stream.avail_out = uInt(o.count)
            return deflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END else { throw ModelPressError.internalError("zlib: deflate returned \(status)") }
        return Int(stream.total_out)
    }

    /// The gzip-compressed size of `data`.
    public static func compressedSize(_ data: Data) throws -> Int {
        try data.withUnsafeBytes { try compressedSize($0) }
    }

    /// The gzip-compressed size of float32 values stored little-endian.
    public static func compressedSize(_ values: [Float]) throws -> Int {
        #if _endian(little)
            return try values.withUnsafeBytes { try compressedSize($0) }
        #else
            var data = Data(capacity: values.count * 4)
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            return try compressedSize(data)
        #endif
    }
}
