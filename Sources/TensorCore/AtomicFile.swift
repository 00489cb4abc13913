import Foundation

/// Writes files so that a reader never sees a partial one: data goes to a temporary file
/// in the same directory, which is renamed over the destination only when complete.
public enum AtomicFile {
    /// Writes `data` to `path` atomically; on failure nothing is left at `path` or beside it.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in
            try data.write(to: URL(fileURLWithPath: temporary))
        }
    }

    /// Calls `produce` with a temporary path next to `path`, then renames it into place.
    /// If `produce` throws, the temporary file is removed and `path` is untouched.
    public static func write(to path: String, _ produce: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = try requireDirectory(of: path)
        let temporary = directory + "/." + url.lastPathComponent + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try produce(temporary)
            guard rename(temporary, path) == 0 else {
                throw ModelPressError.invalidArgument("\(path): cannot be written (\(String(cString: strerror(errno)))).")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
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
