import Foundation
import TensorCore

/// Runs one `modelpress` child process: stdout into a file, stderr passed through to ours
/// (live, unless `forward` is false) and kept in `stderr.txt` beside it.
enum StageProcess {
    /// The child's exit status.
    static func run(executable: String, arguments: [String], stdoutFile: String, forward: Bool) throws -> Int32 {
        let folder = URL(fileURLWithPath: stdoutFile).deletingLastPathComponent().path
        let stderrFile = "\(folder)/stderr.txt"
        for file in [stdoutFile, stderrFile] {
            guard FileManager.default.createFile(atPath: file, contents: nil) else {
                throw ModelPressError.invalidArgument("cannot create \(file).\nHINT: check that the output folder is writable.")
            }
        }
        guard let output = FileHandle(forWritingAtPath: stdoutFile), let errorLog = FileHandle(forWritingAtPath: stderrFile) else {
            throw ModelPressError.invalidArgument("cannot open \(stdoutFile) for writing.")
        }
        defer { try? output.close(); try? errorLog.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ParentWatch.environment()
        process.standardOutput = output
        let pipe = Pipe()
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            throw ModelPressError.internalError("cannot start \(executable): \(error)")
        }
        let reader = pipe.fileHandleForReading
        while case let chunk = reader.availableData, !chunk.isEmpty {
            errorLog.writeBestEffort(chunk)
            if forward { FileHandle.standardError.writeBestEffort(chunk) }
        }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 3 : process.terminationStatus
    }
}
