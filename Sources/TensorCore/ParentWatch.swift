import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Ties a child `modelpress` (a pipeline stage, a batch entry) to the process that started
/// it: the parent puts its PID in the child's environment, and the child ends itself when
/// that parent is gone, so a killed `run` or `batch` leaves no orphan still writing.
public enum ParentWatch {
    /// The environment variable holding the parent's PID.
    public static let variable = "MODELPRESS_PARENT_PID"

    /// `environment` plus this process's PID as the children's parent.
    public static func environment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var environment = environment
        environment[variable] = String(getpid())
        return environment
    }

    /// In a child: exits (status 3, no exit handlers) as soon as the parent named in the
    /// environment is no longer this process's parent; checks every 0.2 s on its own thread.
    public static func start() {
        guard let text = ProcessInfo.processInfo.environment[variable], let parent = pid_t(text) else { return }
        unsetenv(variable)  // the stages' own children (the HDF5 probe) are not watched
        if getppid() != parent { _exit(3) }
        let thread = Thread {
            while getppid() == parent { usleep(200_000) }
            _exit(3)
        }
        thread.start()
    }
}
