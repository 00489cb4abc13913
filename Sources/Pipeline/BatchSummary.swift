import Foundation

/// The batch's `summary.json` and `summary.md`: one row per entry this shard ran.
public struct BatchSummary: Encodable, Sendable {
    /// One entry's row.
    public struct Row: Encodable, Sendable {
        var name: String
        var pipeline: String
        var status: String
        var exitCode: Int32
        var seconds: Double
        var finalModel: String?
        var finalBytes: Int?
        var referenceAccuracy: Double?
        var candidateAccuracy: Double?
        /// The largest robustness drop of the last verify stage (nil: robustness not measured).
        var worstRobustnessDrop: Double?
        var report: String?
        var log: String

        enum CodingKeys: String, CodingKey {
            case name, pipeline, status, seconds, log, report
            case exitCode = "exit_code", finalModel = "final_model", finalBytes = "final_bytes"
            case referenceAccuracy = "reference_accuracy", candidateAccuracy = "candidate_accuracy"
            case worstRobustnessDrop = "worst_robustness_drop"
        }
    }

    var schemaVersion = 1
    var shard: String?
    var totalEntries: Int
    var passed: Int
    var gateFailed: Int
    var errored: Int
    var entries: [Row]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", shard, totalEntries = "total_entries", passed
        case gateFailed = "gate_failed", errored, entries
    }

    public init(results: [BatchResult], shard: Shard?, total: Int) {
        self.shard = shard.map { "\($0.index)/\($0.count)" }
        totalEntries = total
        passed = results.filter { $0.exitCode == 0 }.count
        gateFailed = results.filter { $0.exitCode == 1 }.count
        errored = results.filter { $0.exitCode >= 2 }.count
        entries = results.map { result in
            let report = result.exitCode <= 1 ? result.report : nil
            let verify = report?.verifications.last
            return Row(
                name: result.entry.name, pipeline: result.entry.pipeline, status: result.status, exitCode: result.exitCode,
                seconds: result.seconds, finalModel: report?.finalModel?.path, finalBytes: report?.finalModel?.fileBytes,
                referenceAccuracy: verify?.referenceAccuracy, candidateAccuracy: verify?.candidateAccuracy,
                worstRobustnessDrop: verify?.worstRobustnessDrop,
                report: report == nil ? nil : "\(result.runDirectory)/report.md", log: result.log)
        }
    }

    /// JSON, keys sorted.
    public func json() throws -> Data {
        try ReportJSON.encode(self)
    }

    /// A Markdown table of the entries and a one-line total.
    public func markdown() -> String {
        func percent(_ x: Double?) -> String { x.map { String(format: "%.2f%%", $0 * 100) } ?? "–" }
        let robust = entries.contains { $0.worstRobustnessDrop != nil }
        var lines = [
            "| entry | status | time | final bytes | accuracy before → after |\(robust ? " worst robustness drop |" : "")",
            "|---|---|---:|---:|---|\(robust ? "---:|" : "")",
        ]
        for row in entries {
            let drop = robust ? " \(row.worstRobustnessDrop.map { String(format: "%+.2f pt", $0 * 100) } ?? "–") |" : ""
            lines.append(
                "| \(row.name) | \(row.status) | \(String(format: "%.1f s", row.seconds)) | \(row.finalBytes.map(String.init) ?? "–") | \(percent(row.referenceAccuracy)) → \(percent(row.candidateAccuracy)) |\(drop)")
        }
        lines += ["", "\(entries.count) entries\(shard.map { " (shard \($0) of \(totalEntries) in all)" } ?? ""): \(passed) passed, \(gateFailed) gate failed, \(errored) errored"]
        return lines.joined(separator: "\n") + "\n"
    }
}
