import Foundation
import TensorCore

#if canImport(Glibc)
    import Glibc
#endif

/// Contains libhdf5 on untrusted files: before this process opens an HDF5 file, a child
/// process of the same binary (`modelpress _hdf5-probe FILE`) opens it and makes every
/// libhdf5 call ModelPress makes (`HDF5Probe`), under a time limit and a memory limit. A
/// crash, hang or runaway allocation inside libhdf5 then kills only the child, and the
/// command fails with `ModelPressError.libraryFailure` (exit 2) naming the file.
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
        switch ChildProcess.run(executable, [probeSubcommand, path], timeLimit: limit) {
        case .exited(0):
            state.withLock { _ = $0.passed.insert(identity) }
        case .exited(runawayAllocationStatus):
            throw ModelPressError.libraryFailure(
                file: path, library: "HDF5",
                detail: "it tried to allocate far more memory than the file needs, from a corrupted length, in a contained reader")
        case .exited(let code):
            throw ModelPressError.libraryFailure(file: path, library: "HDF5", detail: "the contained reader stopped with status \(code)")
        case .signaled(let signal):
            throw ModelPressError.libraryFailure(file: path, library: "HDF5", detail: "it crashed with signal \(signal) (\(signalName(signal))) in a contained reader")
        case .timedOut:
            throw ModelPressError.libraryFailure(file: path, library: "HDF5", detail: "no progress within \(String(format: "%.0f", limit)) s; the contained reader was stopped")
        case .notStarted(let reason):
            throw ModelPressError.internalError("cannot start the HDF5 probe \(executable): \(reason)")
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
