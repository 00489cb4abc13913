import Foundation
import ModelIO
import TensorCore

/// The stage cache: a stage's key is a SHA-256 over the previous stage's key, the modelpress
/// version and the stage's arguments, with input files replaced by their digests and run-folder
/// paths made relative. A finished stage leaves `stage.json` with its key, written last.
public struct StageCache {
    /// The run folder (`OUT/<name>`).
    public let runDirectory: String
    private var digests: [String: String] = [:]

    public init(runDirectory: String) {
        self.runDirectory = runDirectory
    }

    /// The key of the pipeline's start: the model file's digest.
    public mutating func rootKey(model: String, version: String) throws -> String {
        FileDigest.sha256(of: Data("modelpress \(version)\nmodel \(try digest(model))\n".utf8))
    }

    /// The key of `invocation` run after the stage keyed `previous`.
    public mutating func key(for invocation: StageInvocation, previous: String) throws -> String {
        var lines = ["previous \(previous)", "stage \(invocation.stage.kind.rawValue)"]
        for argument in invocation.arguments {
            if invocation.inputs.contains(argument) {
                lines.append("file \(try digest(argument))")
            } else if case let named = namedFiles(argument), !named.isEmpty, named.allSatisfy({ invocation.inputs.contains($0.file) }) {
                lines.append("files " + (try named.map { "\($0.name)=\(try digest($0.file))" }).joined(separator: ","))
            } else if argument.hasPrefix(runDirectory + "/") {
                lines.append("run \(argument.dropFirst(runDirectory.count + 1))")
            } else {
                lines.append("arg \(argument)")
            }
        }
        return FileDigest.sha256(of: Data(lines.joined(separator: "\n").utf8))
    }

    /// The record of a finished stage with this key, if its outputs are all still there.
    public func finished(_ invocation: StageInvocation, key: String) -> StageRecord? {
        guard let data = FileManager.default.contents(atPath: recordPath(invocation)),
            let record = try? JSONDecoder().decode(StageRecord.self, from: data), record.key == key
        else { return nil }
        let outputs = [invocation.outputModel, invocation.verifyReport].compactMap { $0 }
        return outputs.allSatisfy { FileManager.default.fileExists(atPath: $0) } ? record : nil
    }

    /// Forgets the stage's record before it runs again.
    public func invalidate(_ invocation: StageInvocation) {
        try? FileManager.default.removeItem(atPath: recordPath(invocation))
    }

    /// Writes the stage's record (atomically, after its outputs).
    public func store(_ record: StageRecord, for invocation: StageInvocation) throws {
        try AtomicFile.write(try ReportJSON.encode(record), to: recordPath(invocation))
    }

    private func recordPath(_ invocation: StageInvocation) -> String {
        "\(runDirectory)/stages/\(invocation.directory)/stage.json"
    }

    private mutating func digest(_ path: String) throws -> String {
        if let known = digests[path] { return known }
        let value = try FileDigest.sha256(ofFileAt: path)
        digests[path] = value
        return value
    }
}

/// What a finished stage left: its key, exit code (0, or 1 when a gate failed) and time.
public struct StageRecord: Codable, Sendable {
    public var key: String
    public var exitCode: Int32
    public var seconds: Double
    public var arguments: [String]

    public init(key: String, exitCode: Int32, seconds: Double, arguments: [String]) {
        self.key = key
        self.exitCode = exitCode
        self.seconds = seconds
        self.arguments = arguments
    }
}
