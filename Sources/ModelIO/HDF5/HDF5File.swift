import CHDF5
import Foundation
import TensorCore

#if canImport(Glibc)
    import Glibc
#endif

/// How a file from outside is kept from crashing or hanging ModelPress inside libhdf5.
public enum HDF5Containment: Sendable {
    /// A contained child reads the file and writes everything it holds into a fresh file,
    /// which this process reads instead: libhdf5 here only ever parses what libhdf5 wrote.
    /// For model files.
    case copy
    /// A contained child reads the file first; this process then reads the original. For
    /// datasets, which may be large and are read only as numbers.
    case probe
}

/// An open HDF5 file. Its root group is `root`; the file closes when the last object
/// from it is released.
public final class HDF5File {
    /// Path the file was opened from (for messages).
    public let path: String
    /// The root group `/`.
    public let root: HDF5Group

    /// Whether the file at `path` starts with the HDF5 signature.
    public static func isHDF5(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        // The superblock may sit at 0, 512, 1024, 2048… (user block); check the usual places.
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        for offset in [0, 512, 1024, 2048] {
            guard (try? handle.seek(toOffset: UInt64(offset))) != nil,
                let bytes = try? handle.read(upToCount: 8), bytes.count == 8
            else { return false }
            if Array(bytes) == signature { return true }
        }
        return false
    }

    /// Opens an existing file read-only; clear errors for a missing, non-HDF5 or damaged file.
    /// Untrusted files are read through `HDF5Guard` (`containment`); messages name `path`.
    public init(readingFrom path: String, containment: HDF5Containment = .copy) throws {
        _ = HDF5Status.ready
        guard FileManager.default.isReadableFile(atPath: path) else { throw ModelPressError.fileNotFound(path: path) }
        guard Self.isHDF5(path) else {
            throw ModelPressError.unrecognizedFormat(path: path, detail: "not an HDF5 file (no HDF5 signature)")
        }
        let copy: String?
        switch containment {
        case .copy: copy = try HDF5Guard.containedCopy(of: path)
        case .probe:
            try HDF5Guard.check(path)
            copy = nil
        }
        let opened = copy ?? path
        // The copy is private: unlinked once open (libhdf5 keeps its descriptor), so nothing is left behind.
        defer { if let copy { unlink(copy) } }
        let id = try HDF5Status.check(H5Fopen(opened, chdf5_acc_rdonly(), chdf5_p_default()), file: path, object: "/", "opening the file")
        let file = HDF5Handle(id, close: H5Fclose)
        file.fileSize = HDF5Limits.fileSize(opened)
        self.path = path
        self.root = try HDF5Group(file: file, path: path, at: "/")
    }

    /// Creates (truncates) a file for writing. Callers write to a temporary name and rename.
    public init(creating path: String) throws {
        _ = HDF5Status.ready
        let id = try HDF5Status.check(
            H5Fcreate(path, chdf5_acc_trunc(), chdf5_p_default(), chdf5_p_default()),
            file: path, object: "/", "creating the file")
        let file = HDF5Handle(id, close: H5Fclose)
        file.fileSize = Int.max / 4
        self.path = path
        self.root = try HDF5Group(file: file, path: path, at: "/")
    }

    /// Flushes and closes nothing yet held elsewhere; writes reach disk when all handles close.
    public func flush() throws {
        try HDF5Status.check(H5Fflush(root.handle.id, H5F_SCOPE_GLOBAL), file: path, object: "/", "flushing")
    }
}
