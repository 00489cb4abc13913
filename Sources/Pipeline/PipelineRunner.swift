import Foundation
import ModelIO
import TensorCore

/// Runs a validated pipeline into `OUT/<name>/`: stage by stage as `modelpress` child
/// processes, skipping stages whose cache key is unchanged, then writes the reports.
public struct PipelineRunner {
    public let spec: PipelineSpec
    /// The run folder, `OUT/<name>`.
    public let runDirectory: String
    /// The `modelpress` binary the stages run.
    public let executable: String
    /// The version string that goes into cache keys and reports.
    public let version: String
    public let verbosity: Verbosity

    public init(spec: PipelineSpec, outDirectory: String, executable: String, version: String, verbosity: Verbosity) {
        self.spec = spec
        self.runDirectory = URL(fileURLWithPath: outDirectory).appendingPathComponent(spec.name).standardizedFileURL.path
        self.executable = executable
        self.version = version
        self.verbosity = verbosity
    }

    /// The stages' command lines in execution order.
    public var plan: [StageInvocation] { StagePlan.make(spec, runDirectory: runDirectory) }

    /// The plan after `validate` has accepted every stage's command line. Stage folders are
    /// created first (commands check that their report folders exist) and removed again when a
    /// stage is refused and the run folder did not exist before: a bad pipeline leaves nothing.
    public func checkedPlan(validate: (StageInvocation) throws -> Void) throws -> [StageInvocation] {
        let existed = FileManager.default.fileExists(atPath: runDirectory)
        let plan = self.plan
        do {
            for invocation in plan {
                try FileManager.default.createDirectory(atPath: "\(runDirectory)/stages/\(invocation.directory)", withIntermediateDirectories: true)
            }
            for invocation in plan { try validate(invocation) }
        } catch {
            if !existed { try? FileManager.default.removeItem(atPath: runDirectory) }
            throw error
        }
        return plan
    }

    /// Runs every stage (after `validate` has accepted every command line) and writes
    /// `report.json`, `report.md`, `junit.xml` and the charts. A failed gate does not stop
    /// later stages; a stage error (exit 2/3) stops the run after writing the reports.
    public func run(validate: (StageInvocation) throws -> Void) throws -> PipelineReport {
        let plan = try checkedPlan(validate: validate)
        try AtomicFile.write(Data(ResolvedPipeline.yaml(spec, plan: plan).utf8), to: "\(runDirectory)/pipeline.resolved.yaml")
        let log = RunLog(path: "\(runDirectory)/run.log", verbosity: verbosity)
        log.write("pipeline \(spec.name): \(plan.count) stages → \(runDirectory)")

        var cache = StageCache(runDirectory: runDirectory)
        var key = try cache.rootKey(model: spec.model, version: version)
        var outcomes: [StageOutcome] = []
        var failure: ModelPressError?
        for (position, invocation) in plan.enumerated() {
            key = try cache.key(for: invocation, previous: key)
            let label = "[\(position + 1)/\(plan.count)] \(invocation.stage.kind.rawValue)"
            if let record = cache.finished(invocation, key: key) {
                log.write("\(label): cached (\(invocation.directory))")
                outcomes.append(StageOutcome(invocation: invocation, record: record, cached: true))
                try copyArtifact(invocation)
                continue
            }
            cache.invalidate(invocation)
            log.write("\(label): running")
            log.write("  modelpress " + invocation.arguments.joined(separator: " "), level: .verbose)
            let start = Date()
            let status = try StageProcess.run(
                executable: executable, arguments: invocation.arguments,
                stdoutFile: invocation.stdoutFile, forward: verbosity != .quiet)
            let seconds = Date().timeIntervalSince(start)
            if verbosity == .verbose, let text = try? String(contentsOfFile: invocation.stdoutFile, encoding: .utf8) {
                log.write(text.trimmingCharacters(in: .newlines), level: .verbose)
            }
            let record = StageRecord(key: key, exitCode: status, seconds: seconds, arguments: invocation.arguments)
            outcomes.append(StageOutcome(invocation: invocation, record: record, cached: false))
            guard status == 0 || status == 1 else {
                let message = "\(invocation.stage.title) failed (exit \(status)); its messages are above and in \(runDirectory)/stages/\(invocation.directory)/stderr.txt"
                log.write("\(label): error, exit \(status)")
                failure = status == 2 ? .invalidArgument(message) : .internalError(message)
                break
            }
            try cache.store(record, for: invocation)
            try copyArtifact(invocation)
            log.write(String(format: "%@: %@ in %.1f s", label, status == 0 ? "done" : "gate failed", seconds))
        }
        if failure == nil, !plan.contains(where: { $0.artifact != nil }), let last = plan.last(where: { $0.outputModel != nil }) {
            var implicit = last
            implicit.artifact = "\(spec.name).onnx"
            try copyArtifact(implicit)
            if let index = outcomes.lastIndex(where: { $0.invocation.directory == last.directory }) { outcomes[index].invocation = implicit }
        }
        let report = try PipelineReport.make(
            spec: spec, runDirectory: runDirectory, version: version, outcomes: outcomes,
            complete: failure == nil, stages: plan.count)
        try PipelineReportWriter.write(report, to: runDirectory)
        if let failure { throw failure }
        log.write("pipeline \(spec.name): \(report.passed ? "passed" : "FAILED") → \(report.finalModel?.path ?? "-")")
        return report
    }

    /// Copies an export stage's file to its place in the run folder (atomically).
    private func copyArtifact(_ invocation: StageInvocation) throws {
        guard let artifact = invocation.artifact, let model = invocation.outputModel else { return }
        let target = "\(runDirectory)/\(artifact)"
        guard let data = FileManager.default.contents(atPath: model) else { throw ModelPressError.fileNotFound(path: model) }
        if FileManager.default.contents(atPath: target) == data { return }
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: target).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try AtomicFile.write(data, to: target)
    }
}

/// A stage that ran (or was found in the cache).
public struct StageOutcome: Sendable {
    public var invocation: StageInvocation
    public var record: StageRecord
    public var cached: Bool
}
