import Foundation
import TensorCore

/// Runs batch entries as `modelpress run` child processes, at most `jobs` at a time (each
/// child single-threaded in BLAS when jobs > 1, so memory and cores stay bounded). One
/// entry's failure never stops the others.
public struct BatchRunner {
    public let executable: String
    public let outDirectory: String
    public let jobs: Int

    public init(executable: String, outDirectory: String, jobs: Int) {
        self.executable = executable
        self.outDirectory = URL(fileURLWithPath: outDirectory).standardizedFileURL.path
        self.jobs = max(1, jobs)
    }

    /// Runs `entries`; `finished` is called (on this thread) as each one ends.
    public func run(_ entries: [BatchManifest.Entry], finished: (BatchResult) -> Void) throws -> [BatchResult] {
        try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        var waiting = entries[...]
        var running: [(BatchManifest.Entry, Process, Date)] = []
        var results: [BatchResult] = []
        while !waiting.isEmpty || !running.isEmpty {
            while running.count < jobs, let entry = waiting.popFirst() {
                running.append((entry, try start(entry), Date()))
            }
            Thread.sleep(forTimeInterval: 0.05)
            for (i, (entry, process, start)) in running.enumerated().reversed() where !process.isRunning {
                running.remove(at: i)
                let status = process.terminationReason == .uncaughtSignal ? 3 : process.terminationStatus
                let result = BatchResult(
                    entry: entry, exitCode: status, seconds: Date().timeIntervalSince(start),
                    runDirectory: "\(outDirectory)/\(entry.name)", log: log(entry))
                results.append(result)
                finished(result)
            }
        }
        let order = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
        return results.sorted { (order[$0.entry.name] ?? 0) < (order[$1.entry.name] ?? 0) }
    }

    private func log(_ entry: BatchManifest.Entry) -> String { "\(outDirectory)/\(entry.name).log" }

    private func start(_ entry: BatchManifest.Entry) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["run", entry.pipeline, "--out", outDirectory, "--quiet"] + entry.overrides.flatMap { ["--set", $0] }
        var environment = ParentWatch.environment()
        if jobs > 1 { environment["OPENBLAS_NUM_THREADS"] = "1" }
        process.environment = environment
        guard FileManager.default.createFile(atPath: log(entry), contents: nil), let handle = FileHandle(forWritingAtPath: log(entry)) else {
            throw ModelPressError.invalidArgument("cannot write \(log(entry)).\nHINT: check that --out is writable.")
        }
        process.standardOutput = handle
        process.standardError = handle
        do { try process.run() } catch { throw ModelPressError.internalError("cannot start \(executable): \(error)") }
        try? handle.close()
        return process
    }
}

/// How one batch entry ended, with the headline numbers of its report (when it wrote one).
public struct BatchResult: Sendable {
    public var entry: BatchManifest.Entry
    /// `modelpress run`'s exit code: 0 passed, 1 a gate failed, 2/3 error.
    public var exitCode: Int32
    public var seconds: Double
    public var runDirectory: String
    public var log: String

    /// `passed`, `gate_failed` or `error`.
    public var status: String { exitCode == 0 ? "passed" : (exitCode == 1 ? "gate_failed" : "error") }

    /// The entry's pipeline report, if the run got far enough to write one.
    public var report: PipelineReport? {
        guard let data = FileManager.default.contents(atPath: "\(runDirectory)/report.json") else { return nil }
        return try? JSONDecoder().decode(PipelineReport.self, from: data)
    }
}
