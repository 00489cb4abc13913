/// The kinds of pipeline stage; each runs the `modelpress` command of the same name.
public enum StageKind: String, CaseIterable, Sendable, Codable {
    case prune, distill, train, quantize, verify, export

    /// Whether the stage hands a different model to the next stage (verify and export do not).
    public var changesModel: Bool { self != .verify && self != .export }

    /// Keys whose values are files, resolved against the pipeline file's folder.
    var pathKeys: Set<String> {
        switch self {
        case .prune: return ["fine_tune_data", "validation"]
        case .distill: return ["teacher", "student", "data", "validation"]
        case .train: return ["student", "data", "validation"]
        case .quantize: return ["calibration", "data", "train"]
        case .verify: return ["reference", "data"]
        case .export: return []
        }
    }

    /// Keys the pipeline fills in itself (the stage's input, output and report files).
    var reservedKeys: Set<String> {
        let common: Set<String> = ["out", "o", "json", "quiet", "q", "help", "h", "model", "architecture"]
        switch self {
        case .prune: return common
        case .distill: return common.union(["log"])
        case .train: return common.union(["log", "student"])
        case .quantize: return common.union(["report_md"])
        case .verify: return common.union(["candidate", "report", "markdown", "junit"])
        case .export: return common
        }
    }

    /// Keys that belong to the pipeline, not to the command (`export: {path: …}`).
    var pipelineKeys: Set<String> {
        self == .export ? ["path"] : []
    }
}
