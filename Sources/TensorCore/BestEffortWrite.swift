import Foundation

extension FileHandle {
    /// Writes `data` and ignores failure (a full disk, a closed pipe), where `write(_:)` would
    /// trap: for messages, progress and logs, which must never turn an error into a crash.
    public func writeBestEffort(_ data: Data) {
        try? write(contentsOf: data)
    }
}
