import Foundation
import TensorCore
import Yams

/// A position in a YAML file: what every pipeline and manifest error names ("p.yaml:12:5").
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    /// The file the node came from (or `--set` for command-line overrides).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    public var description: String { "\(file):\(line):\(column)" }
}

/// A YAML scalar as written, with the type YAML's core schema resolves it to.
public struct YAMLScalar: Sendable, Equatable {
    /// The core-schema type of a plain scalar; quoted scalars are always strings.
    public enum Kind: String, Sendable { case string, int, float, bool, null }

    /// The scalar's text.
    public var text: String
    /// Its resolved type.
    public var kind: Kind
    /// Where it was written.
    public var location: SourceLocation
}

/// One `key: value` pair of a mapping, keeping where the key was written.
public struct YAMLEntry: Sendable, Equatable {
    /// The key (always a string in ModelPress files).
    public var key: String
    /// Where the key was written.
    public var keyLocation: SourceLocation
    /// The value.
    public var value: YAMLNode
}

/// A parsed YAML document: ordered mappings, sequences and typed scalars, each with its location.
public indirect enum YAMLNode: Sendable, Equatable {
    case scalar(YAMLScalar)
    case sequence([YAMLNode], SourceLocation)
    case mapping([YAMLEntry], SourceLocation)

    /// Where the node starts.
    public var location: SourceLocation {
        switch self {
        case .scalar(let s): return s.location
        case .sequence(_, let l), .mapping(_, let l): return l
        }
    }

    /// A short name of the node's type for error messages.
    public var typeName: String {
        switch self {
        case .scalar(let s): return s.kind == .null ? "null" : s.kind.rawValue
        case .sequence: return "list"
        case .mapping: return "mapping"
        }
    }

    /// Parses `text` (the contents of `file`); YAML syntax errors and duplicate keys become
    /// `invalidArgument` errors naming the file, line and column.
    public static func parse(_ text: String, file: String) throws -> YAMLNode {
        if let found = YAMLAliasScan.first(in: text) {
            let what = found.indicator == "&" ? "anchors (&name)" : "aliases (*name)"
            throw ModelPressError.invalidArgument("\(file):\(found.line):\(found.column): YAML \(what) are not supported in ModelPress files; write the value out.")
        }
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            // libyaml quotes the offending line; a hostile file's line can be megabytes long.
            let message = "\(error)".split(separator: "\n", omittingEmptySubsequences: false).map { $0.count > 200 ? String($0.prefix(200)) + "…" : String($0) }
            throw ModelPressError.invalidArgument("\(file): not valid YAML: \(message.joined(separator: "\n"))")
        }
        guard let root else {
            throw ModelPressError.invalidArgument("\(file):1:1: the file is empty.\nHINT: see docs/pipelines.md for the format.")
        }
        return try YAMLNode(root, file: file)
    }

    /// Reads and parses the YAML file at `path`.
    public static func load(_ path: String) throws -> YAMLNode {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelPressError.fileNotFound(path: path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ModelPressError.invalidArgument("\(path): not UTF-8 text; a pipeline is a YAML file.")
        }
        return try parse(text, file: path)
    }

    private init(_ node: Yams.Node, file: String) throws {
        func location(_ mark: Mark?) -> SourceLocation {
            SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
        }
        switch node {
        case .scalar(let scalar):
            self = .scalar(YAMLScalar(text: scalar.string, kind: YAMLScalar.Kind(node.tag), location: location(scalar.mark)))
        case .sequence(let sequence):
            self = .sequence(try sequence.map { try YAMLNode($0, file: file) }, location(sequence.mark))
        case .mapping(let mapping):
            var entries: [YAMLEntry] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ModelPressError.invalidArgument("\(location(key.mark)): a key must be a plain word, not a \(key.mapping != nil ? "mapping" : "list").")
                }
                entries.append(YAMLEntry(key: keyScalar.string, keyLocation: location(keyScalar.mark), value: try YAMLNode(value, file: file)))
            }
            self = .mapping(entries, location(mapping.mark))
        case .alias(let alias):
            throw ModelPressError.invalidArgument("\(location(alias.mark)): YAML aliases (*name) are not supported in ModelPress files; write the value out.")
        }
    }
}

extension YAMLScalar.Kind {
    /// The kind of a scalar that YAML's core schema resolved to `tag`.
    init(_ tag: Tag) {
        switch tag.rawValue {
        case Tag.Name.int.rawValue: self = .int
        case Tag.Name.float.rawValue: self = .float
        case Tag.Name.bool.rawValue: self = .bool
        case Tag.Name.null.rawValue: self = .null
        default: self = .string
        }
    }
}
