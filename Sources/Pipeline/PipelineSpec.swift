import Foundation
import TensorCore

/// A validated pipeline file (format version 1): the model, its datasets, a seed and the
/// ordered stages. Paths are absolute (resolved against the pipeline file's folder).
public struct PipelineSpec: Sendable {
    /// The format version (1).
    public var version: Int
    /// The pipeline's name: its artifacts go to `OUT/<name>/`.
    public var name: String
    /// The pipeline file.
    public var file: String
    /// The model the pipeline starts from.
    public var model: String
    /// The datasets stages read by default.
    public var data: DataSpec
    /// Seed handed to every stage that draws random numbers.
    public var seed: UInt64
    /// The stages in file order.
    public var stages: [StageSpec]
}

/// The pipeline's datasets: `train` (distill, train, fine-tuning), `calibration` (quantize;
/// default: `train`), `test` (verify, accuracy budgets) and `validation` (optional).
public struct DataSpec: Sendable, Equatable {
    public var train: String?
    public var calibration: String?
    public var test: String?
    public var validation: String?
    public var xKey: String
    public var yKey: String
}

/// One stage: its kind and its options in file order, each with where it was written.
public struct StageSpec: Sendable {
    /// 1-based position in the file.
    public var index: Int
    public var kind: StageKind
    public var location: SourceLocation
    public var options: [StageOption]

    /// The option named `key`, if set.
    public func option(_ key: String) -> StageOption? { options.first { $0.key == key } }

    /// `prune`, `quantize`… with the position: "stage 2 (quantize)".
    public var title: String { "stage \(index) (\(kind.rawValue))" }
}

/// One stage option: a value the command takes as `--key-name VALUE`.
public struct StageOption: Sendable, Equatable {
    /// How the option is written on the command line.
    public enum Value: Sendable, Equatable {
        /// `--key VALUE` (numbers and words as written).
        case scalar(String)
        /// `--key A B C`.
        case list([String])
        /// `--key` when true; omitted when false.
        case flag(Bool)
    }

    /// The key in the file (snake_case).
    public var key: String
    public var value: Value
    /// Where the value was written.
    public var location: SourceLocation
    /// Where the key was written.
    public var keyLocation: SourceLocation

    /// The command-line spelling of the key: `max_drop` → `--max-drop`.
    public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// The arguments this option becomes.
    public var arguments: [String] {
        switch value {
        case .scalar(let text): return [flag, text]
        case .list(let items): return [flag] + items
        case .flag(let on): return on ? [flag] : []
        }
    }

    /// The scalar's text, if the value is one.
    public var text: String? {
        if case .scalar(let text) = value { return text }
        return nil
    }
}
