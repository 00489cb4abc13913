import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a helper child process with a wall-clock limit: stdio goes to /dev/null, Swift's
/// crash backtracer is off (a crash must be cheap), and on time-out the child is killed.
enum ChildProcess {
    /// How the child ended.
    enum Outcome: Equatable {
        case exited(Int32)
        case signaled(Int32)
        case timedOut
        case notStarted(String)
    }

    /// Starts `executable arguments…` and waits at most `timeLimit` seconds for it.
    static func run(_ executable: String, _ arguments: [String], timeLimit: Double) -> Outcome {
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var pid: pid_t = 0
        let started = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envBuffer in
                posix_spawn(
                    &pid, executable, &actions, nil,
                    UnsafeMutablePointer(mutating: argvBuffer.baseAddress!),
                    UnsafeMutablePointer(mutating: envBuffer.baseAddress!))
            }
        }
        guard started == 0 else { return .notStarted(String(cString: strerror(started))) }
        let deadline = Date().addingTimeInterval(timeLimit)
        var pause: useconds_t = 500
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return decode(status) }
            if result < 0 && errno != EINTR { return .notStarted("waitpid: \(String(cString: strerror(errno)))") }
            if Date() >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return .timedOut
            }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    /// Decodes a `waitpid` status (WIFEXITED / WTERMSIG are macros Swift cannot import).
    private static func decode(_ status: Int32) -> Outcome {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}
