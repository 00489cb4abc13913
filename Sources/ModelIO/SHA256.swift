import Crypto
import Foundation
import TensorCore

/// SHA-256 digests (swift-crypto) of files and bytes, for provenance in reports and exports.
public enum FileDigest {
    /// Lowercase hex SHA-256 of the file at `path`, streamed in 1 MiB blocks.
    public static func sha256(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ModelPressError.fileNotFound(path: path) }
        defer { try? handle.close() }
        var hasher = Crypto.SHA256()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty { hasher.update(data: block) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Lowercase hex SHA-256 of `data`.
    public static func sha256(of data: Data) -> String {
        Crypto.SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
