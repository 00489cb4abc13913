import Deflate
import Evaluation
import Foundation
import ModelIO
import ModelLoading
import TensorCore

/// What a pipeline run produced, as written to `report.json` (schema in docs/pipelines.md).
public struct PipelineReport: Codable, Sendable {
    /// The version of this report's schema.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var pipeline: String
    public var file: String
    public var producer: String
    /// True when every stage finished and every gate held.
    public var passed: Bool
    /// `passed`, `gate_failed` or `error`.
    public var status: String
    public var original: ModelSummary
    public var finalModel: ModelSummary?
    public var stages: [StageSummary]
    public var gates: [GateSummary]
    public var verifications: [VerifySummary]
    /// Per-layer statistics of the final model (layers that own weights).
    public var layers: [LayerSummary]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", pipeline, file, producer, passed, status, original
        case finalModel = "final", stages, gates, verifications, layers
    }
}

/// A model file: where, its digest, file bytes, and its weights' count, nonzeros and bytes.
public struct ModelSummary: Codable, Sendable {
    public var path: String
    public var sha256: String
    public var fileBytes: Int
    /// The file's size gzip-compressed (level 9): what pruning's zeros save in a compressed download.
    public var gzipBytes: Int
    /// Weight statistics; nil when ModelPress cannot read the file back (`--dynamic` files).
    public var parameters: Int?
    public var nonzeros: Int?
    public var weightBytes: Int?
    public var macs: Int?
    /// Activation bytes alive at once per sample, at the peak (`Graph.activationMemory`).
    public var peakActivationBytes: Int?

    enum CodingKeys: String, CodingKey {
        case path, sha256, fileBytes = "file_bytes", gzipBytes = "gzip_bytes", parameters, nonzeros, weightBytes = "weight_bytes", macs
        case peakActivationBytes = "peak_activation_bytes"
    }
}

/// One stage of the run.
public struct StageSummary: Codable, Sendable {
    public var index: Int
    public var kind: String
    public var directory: String
    public var cached: Bool
    public var seconds: Double
    public var exitCode: Int32
    public var output: String?
    public var outputBytes: Int?
    public var arguments: [String]

    enum CodingKeys: String, CodingKey {
        case index, kind, directory, cached, seconds, exitCode = "exit_code", output, outputBytes = "output_bytes", arguments
    }
}

/// One gate of a verify stage (or a stage's own budget), as in `verify --report`.
public struct GateSummary: Codable, Sendable {
    public var stage: Int
    public var name: String
    public var value: Double?
    public var limit: Double?
    public var comparison: String?
    public var passed: Bool
    public var message: String
}

/// The headline numbers of one verify stage.
public struct VerifySummary: Codable, Sendable {
    public var stage: Int
    public var candidate: String
    public var referenceAccuracy: Double?
    public var candidateAccuracy: Double?
    public var agreement: Double?
    public var passed: Bool
    public var report: String
    /// The robustness table of the verify report (`robustness: true` or condition keys), else nil.
    public var robustness: RobustnessSummary?

    enum CodingKeys: String, CodingKey {
        case stage, candidate, referenceAccuracy = "reference_accuracy", candidateAccuracy = "candidate_accuracy", agreement, passed, report
        case robustness
    }

    /// The largest robustness drop over the conditions measured (nil: none measured with labels).
    public var worstRobustnessDrop: Double? { robustness?.conditions.compactMap(\.robustnessDrop).max() }
}

/// One layer of the final model that owns weights.
public struct LayerSummary: Codable, Sendable {
    public var layer: String
    public var op: String
    public var parameters: Int
    public var nonzeros: Int
    public var sparsity: Double
    public var bits: Int
    public var bytes: Int
    public var macs: Int
    /// The bytes of the original model's layer of the same name (float32), when there is one.
    public var originalBytes: Int?

    enum CodingKeys: String, CodingKey {
        case layer, op, parameters, nonzeros, sparsity, bits, bytes, macs, originalBytes = "original_bytes"
    }
}

extension PipelineReport {
    /// Assembles the report from the stage outcomes, the verify reports and the model files.
    static func make(
        spec: PipelineSpec, runDirectory: String, version: String, outcomes: [StageOutcome],
        complete: Bool, stages: Int
    ) throws -> PipelineReport {
        var gates: [GateSummary] = []
        var verifications: [VerifySummary] = []
        for outcome in outcomes {
            let index = outcome.invocation.stage.index
            if let path = outcome.invocation.verifyReport, let verify = try? VerifyJSON.read(path) {
                gates += verify.gates.map {
                    GateSummary(
                        stage: index, name: $0.name, value: $0.value, limit: $0.limit,
                        comparison: $0.comparison, passed: $0.passed, message: $0.message)
                }
                verifications.append(
                    VerifySummary(
                        stage: index, candidate: verify.candidate.path, referenceAccuracy: verify.reference.accuracy,
                        candidateAccuracy: verify.candidate.accuracy, agreement: verify.agreement,
                        passed: verify.passed, report: path, robustness: verify.robustness))
            } else if outcome.record.exitCode == 1 {
                gates.append(
                    GateSummary(
                        stage: index, name: "\(outcome.invocation.stage.kind.rawValue)_budget", value: nil, limit: nil,
                        comparison: nil, passed: false,
                        message: "\(outcome.invocation.stage.title) could not meet its budget; see \(outcome.invocation.stdoutFile)"))
            }
        }
        let finalPath = outcomes.last(where: { $0.invocation.artifact != nil && $0.record.exitCode <= 1 }).flatMap { $0.invocation.artifact.map { "\(runDirectory)/\($0)" } }
        let finalGraph = finalPath.flatMap { try? ModelLoader.load($0) }
        let originalGraph = try ModelLoader.load(spec.model)
        let originalStats = originalGraph.statistics(), finalStats = finalGraph?.statistics()
        let originalBytes = Dictionary(originalStats.map { ($0.layer, $0.bytes) }, uniquingKeysWith: +)
        let layers = (finalStats ?? []).filter { $0.parameters > 0 }.map {
            LayerSummary(
                layer: $0.layer, op: $0.op, parameters: $0.parameters,
                nonzeros: $0.parameters - Int((Double($0.parameters) * $0.sparsity).rounded()),
                sparsity: $0.sparsity, bits: $0.bits, bytes: $0.bytes, macs: $0.macs, originalBytes: originalBytes[$0.layer])
        }
        let stageSummaries = outcomes.map { o in
            StageSummary(
                index: o.invocation.stage.index, kind: o.invocation.stage.kind.rawValue, directory: o.invocation.directory,
                cached: o.cached, seconds: o.record.seconds, exitCode: o.record.exitCode, output: o.invocation.outputModel,
                outputBytes: o.invocation.outputModel.flatMap(Self.fileSize), arguments: o.record.arguments)
        }
        let passed = complete && outcomes.count == stages && gates.allSatisfy(\.passed)
        return PipelineReport(
            schemaVersion: currentSchemaVersion, pipeline: spec.name, file: spec.file, producer: "modelpress \(version)",
            passed: passed, status: !complete ? "error" : (passed ? "passed" : "gate_failed"),
            original: try summary(spec.model, graph: originalGraph, statistics: originalStats),
            finalModel: try finalPath.map { try summary($0, graph: finalGraph, statistics: finalStats) },
            stages: stageSummaries, gates: gates, verifications: verifications, layers: layers)
    }

    /// The file's digest and sizes, totals of its per-node `statistics` and its activation memory
    /// (nil: unreadable model).
    private static func summary(_ path: String, graph: Graph?, statistics stats: [NodeStatistics]?) throws -> ModelSummary {
        guard let bytes = FileManager.default.contents(atPath: path) else { throw ModelPressError.fileNotFound(path: path) }
        let parameters = stats?.reduce(0) { $0 + $1.parameters }
        let zeros = stats?.reduce(0) { $0 + Int((Double($1.parameters) * $1.sparsity).rounded()) }
        return ModelSummary(
            path: path, sha256: FileDigest.sha256(of: bytes), fileBytes: bytes.count, gzipBytes: try Gzip.compressedSize(bytes),
            parameters: parameters, nonzeros: parameters.flatMap { p in zeros.map { p - $0 } },
            weightBytes: stats?.reduce(0) { $0 + $1.bytes }, macs: stats?.reduce(0) { $0 + $1.macs },
            peakActivationBytes: graph?.activationMemory().peakBytes)
    }

    static func fileSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    }
}

/// The parts of a `verify --report` file the pipeline report repeats.
struct VerifyJSON: Decodable {
    struct Model: Decodable { var path: String; var accuracy: Double? }
    struct Gate: Decodable { var name: String; var value: Double?; var limit: Double?; var comparison: String?; var passed: Bool; var message: String }
    var passed: Bool
    var agreement: Double?
    var reference: Model
    var candidate: Model
    var gates: [Gate]
    var robustness: RobustnessSummary?

    static func read(_ path: String) throws -> VerifyJSON {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelPressError.fileNotFound(path: path) }
        return try JSONDecoder().decode(VerifyJSON.self, from: data)
    }
}
