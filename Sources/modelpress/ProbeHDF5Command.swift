import ArgumentParser
import Foundation
import ModelIO

#if canImport(Glibc)
    import Glibc
#endif

/// Hidden: the contained reader `HDF5Guard` starts before this process trusts an HDF5 file.
/// It lowers its own limits (data segment, no core file), walks the file with `HDF5Probe`
/// (writing what it read into `--copy-to` when given), and exits 0, or one of `HDF5Guard`'s
/// statuses; a libhdf5 crash or hang ends only this child.
struct ProbeHDF5Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: HDF5Guard.probeSubcommand,
        abstract: "Internal: read an HDF5 file in a contained child process.",
        shouldDisplay: false)

    @Argument(help: "HDF5 file.")
    var file: String

    @Option(help: "Write everything read into a new HDF5 file here.")
    var copyTo: String?

    func run() throws {
        HDF5Guard.probeExecutable = nil
        var core = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &core)
        let bytes = rlim_t(HDF5Guard.memoryLimit)
        var memory = rlimit(rlim_cur: bytes, rlim_max: bytes)
        setrlimit(__rlimit_resource_t(RLIMIT_DATA.rawValue), &memory)
        switch HDF5Probe.walk(file, copyTo: copyTo) {
        case .fine: return
        case .runawayAllocation: _exit(HDF5Guard.runawayAllocationStatus)
        case .damaged(let message): leave(message, status: HDF5Guard.damagedStatus)
        case .cannotWrite(let message): leave(message, status: HDF5Guard.cannotWriteStatus)
        }
    }

    /// Replaces the copy with `message` for the parent to read, and exits with `status`.
    private func leave(_ message: String, status: Int32) -> Never {
        if let copyTo { try? Data(message.utf8).write(to: URL(fileURLWithPath: copyTo)) }
        _exit(status)
    }
}
