import Foundation
import TensorCore

/// Progress for long steps on stderr: a redrawn bar on a terminal, plain log lines (every
/// 10%) otherwise, nothing when quiet or while the step has run for less than a second.
final class ProgressReporter {
    private let label: String
    private let enabled: Bool
    private let interactive = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["CI"] == nil
    private let start = Date()
    private var lastDecile = -1

    init(_ label: String, quiet: Bool) {
        self.label = label
        enabled = !quiet
    }

    /// Reports `done` of `total` units.
    func update(_ done: Int, _ total: Int) {
        let elapsed = Date().timeIntervalSince(start)
        guard enabled, total > 0, elapsed >= 1 else { return }
        let fraction = Double(done) / Double(total)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        if interactive {
            let width = 30, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = String(format: "\r%@ %@ %d/%d  %.0f/s", label, bar, done, total, rate)
            FileHandle.standardError.writeBestEffort(Data((line + (done >= total ? "\n" : "")).utf8))
        } else {
            let decile = Int(fraction * 10)
            guard decile > lastDecile else { return }
            lastDecile = decile
            let line = String(format: "%@: %d/%d (%.0f%%) %.1fs", label, done, total, fraction * 100, elapsed)
            FileHandle.standardError.writeBestEffort(Data((line + "\n").utf8))
        }
    }
}
