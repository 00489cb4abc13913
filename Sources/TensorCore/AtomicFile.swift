import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes files so that a reader never sees a partial one: data goes to a temporary file
/// in the same directory, which is renamed over the destination only when complete.
public enum AtomicFile {
    /// Writes `data` to `path` atomically; on failure nothing is left at `path` or beside it.
    public static func write(_ data: Data, to path: String) throws {
        try write(segments: [data], to: path)
    }

    /// Writes the concatenation of `segments` to `path` atomically (no joined copy is made).
    public static func write(segments: [Data], to path: String) throws {
        try write(to: path) { temporary in try writeAll(segments, to: temporary) }
    }

    /// `segments` one after the other into a new file at `path`, in chunks of at most 1 GiB:
    /// Linux's `write(2)` moves at most 2 GiB − 4 KiB per call, and Foundation's `Data.write`
    /// then repeats the start of the buffer instead of continuing (files past 2 GiB came out wrong).
    static func writeAll(_ segments: [Data], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        for segment in segments {
            try segment.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                var done = 0
                while done < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + done, min(bytes.count - done, 1 << 30))
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                    }
                    done += written
                }
            }
        }
    }

    /// Calls `produce` with a temporary path next to `path`, flushes it to disk, then renames
    /// it into place. If `produce` throws (or the disk fills), the temporary file is removed,
    /// `path` is untouched, and file-system failures become `invalidArgument` naming `path`.
    /// Partial files of killed earlier writers (their process is gone) are removed first.
    public static func write(to path: String, _ produce: (String) throws -> Void) throws {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let directory = try requireDirectory(of: path)
        removeStalePartials(of: name, in: directory)
        let temporary = directory + "/" + partialPrefix(of: name) + "\(getpid())"
        do {
            try produce(temporary)
            try flush(temporary, for: path)
            guard rename(temporary, path) == 0 else { throw failure(path, errno) }
            flush(directory: directory)
        } catch {
            let full = isFull(directory)
            unlink(temporary)
            if full { throw failure(path, ENOSPC) }  // libhdf5 and others report a full disk in their own words
            if let library = error as? ModelPressError { throw library.renamingFile(temporary, to: path) }
            if let posix = error as? POSIXError { throw failure(path, posix.code.rawValue) }
            if let cocoa = error as? CocoaError, let underlying = cocoa.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                throw failure(path, Int32(underlying.code))
            }
            if error is CocoaError { throw ModelPressError.invalidArgument("\(path): cannot be written (\(error.localizedDescription)); nothing was written.") }
            throw error
        }
    }

    /// The name prefix of `name`'s partial files (`.NAME.partial-PID`).
    static func partialPrefix(of name: String) -> String { "." + name + ".partial-" }

    /// Removes `.NAME.partial-PID` files in `directory` whose writer process no longer exists
    /// (a SIGKILL or power loss leaves them; they are never renamed into place).
    static func removeStalePartials(of name: String, in directory: String) {
        let prefix = partialPrefix(of: name)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            guard let pid = pid_t(entry.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink(directory + "/" + entry)
        }
    }

    /// Whether the file system holding `directory` has no block left for this user.
    private static func isFull(_ directory: String) -> Bool {
        var stats = statvfs()
        return statvfs(directory, &stats) == 0 && stats.f_bavail == 0
    }

    /// fsync of the finished temporary file, so the rename never exposes unwritten blocks.
    private static func flush(_ temporary: String, for path: String) throws {
        let fd = open(temporary, O_RDONLY)
        guard fd >= 0 else { throw failure(path, errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure(path, errno) }
    }

    /// fsync of the directory, so the rename itself is durable (best effort).
    private static func flush(directory: String) {
        let fd = open(directory, O_RDONLY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    private static func failure(_ path: String, _ code: Int32) -> ModelPressError {
        let hint = code == ENOSPC || code == EDQUOT ? "free some space or write elsewhere" : "check the path and its permissions"
        return .invalidArgument("\(path): cannot be written (\(String(cString: strerror(code)))); nothing was written.\nHINT: \(hint).")
    }

    /// The folder `path` would be written into; `invalidArgument` when it is not an existing
    /// directory (checked before long work, so a typo fails in milliseconds).
    @discardableResult
    public static func requireDirectory(of path: String) throws -> String {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelPressError.invalidArgument("\(path): the directory \(directory) does not exist.\nHINT: create it first or choose another output path.")
        }
        return directory
    }
}
