import Foundation
import TensorCore

/// Limits on sizes read from HDF5 files, checked before anything is allocated: a size a
/// corrupted file declares must fit in the file (times the compression ratio deflate can
/// reach, for filtered datasets), and one read must fit in a stated memory budget.
public enum HDF5Limits {
    /// Largest single read into memory, in bytes: `MODELPRESS_MAX_READ_MB`, or 4 GiB.
    public static var maxReadBytes: Int {
        if let text = ProcessInfo.processInfo.environment["MODELPRESS_MAX_READ_MB"], let mb = Int(text), mb > 0 { return mb << 20 }
        return 4 << 30
    }

    /// Declared-to-stored ratio accepted for compressed datasets (deflate peaks near 1032:1).
    public static let maxCompressionRatio = 1100

    /// Slack for small objects stored inside object headers (compact datasets, attributes).
    static let slack = 64 << 10

    /// The size of the file at `path` in bytes (0 when it cannot be read).
    static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// The most bytes of data a file of `fileSize` bytes can hold for one object.
    static func maxStoredBytes(fileSize: Int, compressed: Bool) -> Int {
        (Checked.multiply(fileSize, compressed ? maxCompressionRatio : 1) ?? Int.max / 2) + slack
    }
}
