import Foundation
import TensorCore

#if canImport(Glibc)
    import Glibc
#endif

/// Contains libhdf5 on untrusted files: a child process of the same binary
/// (`modelpress _hdf5-probe FILE [--copy-to COPY]`) opens the file and makes every libhdf5
/// call ModelPress makes (`HDF5Probe`), under a time limit and a memory limit; for model files
/// it also writes all it read into a fresh file that this process then reads instead
/// (`HDF5Containment`). A crash, hang or runaway allocation inside libhdf5 then kills only the
/// child, and the command fails with `ModelPressError.libraryFailure` (exit 2) naming the file.
/// docs/reliability.md gives the measurements behind this choice.
public enum HDF5Guard {
    /// The hidden subcommand that runs `HDF5Probe` on one file.
    public static let probeSubcommand = "_hdf5-probe"

    /// The executable providing `probeSubcommand` (the CLI sets its own path at start); nil
    /// turns containment off (library use, unit tests, and the probe child itself).
    public static var probeExecutable: String? {
        get { state.withLock { $0.executable } }
        set { state.withLock { $0.executable = newValue } }
    }

    /// Wall-clock limit of one probe: `MODELPRESS_HDF5_PROBE_TIMEOUT` seconds, or 5 s plus
    /// 1 s per 50 MB of file.
    static func timeLimit(forFileOfSize size: Int) -> Double {
        if let text = ProcessInfo.processInfo.environment["MODELPRESS_HDF5_PROBE_TIMEOUT"], let value = Double(text), value > 0 {
            return value
        }
        return 5 + Double(size) / 50_000_000
    }

    /// The probe's exit status when libhdf5 allocated far beyond what the file needs.
    public static let runawayAllocationStatus: Int32 = 97
    /// The copying probe's exit status when a group or dataset cannot be read; the copy's
    /// path then holds the message (UTF-8 text).
    public static let damagedStatus: Int32 = 95
    /// The copying probe's exit status when the copy cannot be written; the message as for `damagedStatus`.
    public static let cannotWriteStatus: Int32 = 96

    /// Data-segment limit of the probe child (RLIMIT_DATA: heap and private mappings, in
    /// bytes): `MODELPRESS_HDF5_PROBE_MEMORY_MB`, or 384 MB. An honest walk needs under 100 MB;
    /// the limit keeps the probe's own peak, which counts towards the command's, under 512 MB.
    public static var memoryLimit: Int {
        if let text = ProcessInfo.processInfo.environment["MODELPRESS_HDF5_PROBE_MEMORY_MB"], let mb = Int(text), mb > 0 {
            return mb << 20
        }
        return 384 << 20
    }

    /// Probes `path` once per process (per file identity: device, inode, size, mtime);
    /// throws `libraryFailure` when libhdf5 crashed, hung or exhausted memory on it.
    static func check(_ path: String) throws {
        guard let executable = probeExecutable,
            ProcessInfo.processInfo.environment["MODELPRESS_HDF5_PROBE"] != "0"
        else { return }
        var info = stat()
        guard stat(path, &info) == 0 else { return }  // the caller reports a missing file
        let identity = "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        if state.withLock({ $0.passed.contains(identity) }) { return }
        let limit = timeLimit(forFileOfSize: Int(info.st_size))
        let outcome = ChildProcess.run(executable, [probeSubcommand, path], timeLimit: limit)
        guard outcome == .exited(0) else { throw failure(outcome, file: path, executable: executable, limit: limit) }
        state.withLock { _ = $0.passed.insert(identity) }
    }

    /// A private copy of `path` written by the contained child from everything it read, or nil
    /// when containment is off. The caller opens it, then unlinks it.
    static func containedCopy(of path: String) throws -> String? {
        guard let executable = probeExecutable, ProcessInfo.processInfo.environment["MODELPRESS_HDF5_PROBE"] != "0" else { return nil }
        removeStaleCopies()
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("\(copyPrefix)\(getpid())-\(UUID().uuidString).h5").path
        // Reading and writing: the probe's base time, and twice its time per byte.
        let limit = timeLimit(forFileOfSize: 2 * HDF5Limits.fileSize(path))
        let outcome = ChildProcess.run(executable, [probeSubcommand, path, "--copy-to", copy], timeLimit: limit)
        if outcome == .exited(0) { return copy }
        defer { unlink(copy) }
        switch outcome {
        case .exited(damagedStatus):
            throw ModelPressError.invalidModel(
                file: path, location: "HDF5 contents", message: "cannot be read: \(childMessage(copy, about: path))",
                hint: "the file is damaged or truncated; re-save it from the original model")
        case .exited(cannotWriteStatus):
            throw ModelPressError.libraryFailure(
                file: path, library: "HDF5",
                detail: "the contained reader could not write its private copy in \(FileManager.default.temporaryDirectory.path): \(childMessage(copy, about: path)); free space there or set TMPDIR")
        default:
            throw failure(outcome, file: path, executable: executable, limit: limit)
        }
    }

    /// Name prefix of private copies in the temporary folder (`modelpress-hdf5-PID-UUID.h5`).
    static let copyPrefix = "modelpress-hdf5-"

    /// Deletes private copies left by processes that no longer run (killed between the copy
    /// and its unlinking).
    private static func removeStaleCopies() {
        let folder = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(copyPrefix) {
            guard let pid = Int32(name.dropFirst(copyPrefix.count).prefix { $0 != "-" }), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink(folder.appendingPathComponent(name).path)
        }
    }

    /// The message a copying probe left in `copy` (at most 4 KB), without the file's own name.
    private static func childMessage(_ copy: String, about path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: copy), let data = try? handle.read(upToCount: 4096) else { return "no detail" }
        try? handle.close()
        var text = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        if text.hasPrefix(path + ": ") { text.removeFirst(path.count + 2) }
        return text.isEmpty ? "no detail" : text
    }

    /// The error for a probe that did not exit 0.
    private static func failure(_ outcome: ChildProcess.Outcome, file path: String, executable: String, limit: Double) -> ModelPressError {
        switch outcome {
        case .exited(runawayAllocationStatus):
            return ModelPressError.libraryFailure(
                file: path, library: "HDF5",
                detail: "it tried to allocate far more memory than the file needs, from a corrupted length, in a contained reader")
        case .exited(let code):
            return ModelPressError.libraryFailure(file: path, library: "HDF5", detail: "the contained reader stopped with status \(code)")
        case .signaled(let signal):
            // Under an address-space limit the reader can also die of it, on a sound file.
            let limit = MemoryBudget.addressSpaceLimit.map {
                "; or this process's address-space limit (ulimit -v, \($0 >> 20) MB) is too small for the reader: raise it and try again"
            }
            return ModelPressError.libraryFailure(
                file: path, library: "HDF5", detail: "it crashed with signal \(signal) (\(signalName(signal))) in a contained reader\(limit ?? "")")
        case .timedOut:
            return ModelPressError.libraryFailure(file: path, library: "HDF5", detail: "no progress within \(String(format: "%.0f", limit)) s; the contained reader was stopped")
        case .notStarted(let reason):
            return ModelPressError.internalError("cannot start the HDF5 probe \(executable): \(reason)")
        }
    }

    private static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: return "SIGSEGV"
        case SIGBUS: return "SIGBUS"
        case SIGABRT: return "SIGABRT"
        case SIGILL: return "SIGILL"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL, memory or CPU limit"
        case SIGXCPU: return "SIGXCPU, CPU limit"
        case SIGTRAP: return "SIGTRAP"
        default: return "signal"
        }
    }

    private struct State {
        var executable: String?
        var passed: Set<String> = []
    }

    private static let state = Locked(State())
}
