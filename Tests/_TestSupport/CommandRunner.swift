import Foundation

/// The result of running the `modelpress` binary.
public struct CommandResult {
    public let exitCode: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs the built `modelpress` binary (`MODELPRESS` env, else `.build/debug/modelpress`).
public func runModelPress(_ arguments: [String], environment: [String: String] = [:], removing: [String] = []) throws -> CommandResult {
    let binary = ProcessInfo.processInfo.environment["MODELPRESS"] ?? Fixtures.root + "/.build/debug/modelpress"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: Fixtures.root)
    var env = ProcessInfo.processInfo.environment
    env["CI"] = "true"
    for (k, v) in environment { env[k] = v }
    for k in removing { env[k] = nil }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes to the end before waiting, so a chatty command cannot block on a full pipe.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        exitCode: process.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// A fresh temporary directory, removed by the caller.
public func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("modelpress-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
