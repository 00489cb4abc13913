import Deflate
import Evaluation
import Foundation
import Pruning

/// What `modelpress prune` prints: the per-layer table (or JSON: the `PruningReport` fields,
/// the schedule's steps and the file's bytes raw and gzip-compressed).
struct PruneOutput: Encodable {
    let report: PruningReport
    let steps: [GradualPruning.Step]
    let schedule: String
    let file: String
    let fileData: Data

    private enum CodingKeys: String, CodingKey { case schedule, steps, output }

    /// The written file's size and its gzip -9 size.
    struct FileBytes: Encodable {
        let path: String, bytes: Int, gzipBytes: Int
    }

    /// The output file's bytes, raw and gzip-compressed.
    func fileBytes() throws -> FileBytes {
        FileBytes(path: file, bytes: fileData.count, gzipBytes: try Gzip.compressedSize(fileData))
    }

    /// The report's keys plus `schedule`, `steps` and `output`.
    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(steps, forKey: .steps)
        try c.encode(try fileBytes(), forKey: .output)
    }

    /// Prints JSON, or the table and the file line unless quiet.
    func print(json: Bool, quiet: Bool) throws {
        if json {
            try printJSON(self)
            return
        }
        guard !quiet else { return }
        Swift.print(PruneCommand.table(report))
        for warning in report.warnings { Swift.print("warning: \(warning)") }
        let bytes = try fileBytes()
        Swift.print("wrote \(file): \(grouped(bytes.bytes)) bytes (\(grouped(bytes.gzipBytes)) gzip-compressed)")
    }
}
