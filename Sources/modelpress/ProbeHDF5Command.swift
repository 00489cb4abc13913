import ArgumentParser
import Foundation
import ModelIO

#if canImport(Glibc)
    import Glibc
#endif

/// Hidden: the contained reader `HDF5Guard` starts before this process trusts an HDF5 file.
/// It lowers its own limits (data segment, no core file), walks the file with
/// `HDF5Probe`, and exits 0, or `HDF5Guard.runawayAllocationStatus` when libhdf5 allocated
/// far beyond what the file needs; a libhdf5 crash or hang ends only this child.
struct ProbeHDF5Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: HDF5Guard.probeSubcommand,
        abstract: "Internal: read an HDF5 file in a contained child process.",
        shouldDisplay: false)

    @Argument(help: "HDF5 file.")
    var file: String

    func run() throws {
        HDF5Guard.probeExecutable = nil
        var core = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &core)
        let bytes = rlim_t(HDF5Guard.memoryLimit)
        var memory = rlimit(rlim_cur: bytes, rlim_max: bytes)
        setrlimit(__rlimit_resource_t(RLIMIT_DATA.rawValue), &memory)
        if case .runawayAllocation = HDF5Probe.walk(file) { _exit(HDF5Guard.runawayAllocationStatus) }
    }
}
