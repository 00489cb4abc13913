import Foundation
import TensorCore

/// How much a run prints on stderr.
public enum Verbosity: Sendable {
    /// Errors only.
    case quiet
    /// A line per stage and the stages' progress.
    case normal
    /// Also each stage's command line and its stdout.
    case verbose
}

/// The run's log: every line goes to `run.log` in the run folder, and to stderr as the
/// verbosity allows.
final class RunLog {
    private let file: FileHandle?
    let verbosity: Verbosity

    init(path: String, verbosity: Verbosity) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        file = FileHandle(forWritingAtPath: path)
        self.verbosity = verbosity
    }

    deinit { try? file?.close() }

    /// Logs `line`; shown on stderr at `level` or above.
    func write(_ line: String, level: Verbosity = .normal) {
        let stamped = Data((line + "\n").utf8)
        file?.writeBestEffort(stamped)
        let shown =
            switch verbosity {
            case .quiet: false
            case .normal: level != .verbose
            case .verbose: true
            }
        if shown { FileHandle.standardError.writeBestEffort(stamped) }
    }
}
