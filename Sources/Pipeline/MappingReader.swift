import TensorCore

/// Reads one YAML mapping strictly: every key is asked for by name, and `finish()` rejects
/// any key nobody asked for, naming its line and column and the keys that are allowed.
struct MappingReader {
    /// The mapping's entries in file order.
    let entries: [YAMLEntry]
    /// Where the mapping starts.
    let location: SourceLocation
    /// What the mapping is, for messages ("the pipeline", "stage 2 (quantize)").
    let context: String
    private var asked: [String] = []

    init(_ node: YAMLNode, context: String) throws {
        guard case .mapping(let entries, let location) = node else {
            throw YAMLError.at(node.location, "\(context) must be a mapping (key: value lines), not a \(node.typeName).")
        }
        self.entries = entries
        self.location = location
        self.context = context
    }

    /// The value under `key`, if present.
    mutating func node(_ key: String) -> YAMLNode? {
        asked.append(key)
        return entries.first { $0.key == key }?.value
    }

    /// A required value.
    mutating func required(_ key: String) throws -> YAMLNode {
        guard let value = node(key) else {
            throw YAMLError.at(location, "\(context) has no '\(key)'; it is required.")
        }
        return value
    }

    /// A string scalar (numbers are accepted as their text, e.g. a name `2024`).
    mutating func string(_ key: String) throws -> (value: String, location: SourceLocation)? {
        guard let value = node(key) else { return nil }
        guard case .scalar(let s) = value, s.kind != .null else {
            throw YAMLError.at(value.location, "'\(key)' in \(context) must be text, not a \(value.typeName).")
        }
        return (s.text, s.location)
    }

    /// An integer scalar.
    mutating func integer(_ key: String) throws -> (value: Int, location: SourceLocation)? {
        guard let value = node(key) else { return nil }
        guard case .scalar(let s) = value, s.kind == .int, let number = Int(s.text) else {
            throw YAMLError.at(value.location, "'\(key)' in \(context) must be a whole number, not a \(value.typeName)\(Self.quoted(value)).")
        }
        return (number, s.location)
    }

    /// Rejects the first key that was never asked for.
    func finish() throws {
        for entry in entries where !asked.contains(entry.key) {
            let allowed = asked.map { "'\($0)'" }.joined(separator: ", ")
            throw YAMLError.at(entry.keyLocation, "unknown key '\(entry.key)' in \(context); allowed: \(allowed).")
        }
    }

    /// ` ("text")` for scalars, to show what was written.
    static func quoted(_ node: YAMLNode) -> String {
        if case .scalar(let s) = node { return " (\"\(s.text)\")" }
        return ""
    }
}

/// Errors in pipeline and manifest files: every one starts with `file:line:column:`.
enum YAMLError {
    /// `invalidArgument` with the location first and a pointer to the format reference.
    static func at(_ location: SourceLocation, _ message: String) -> ModelPressError {
        .invalidArgument("\(location): \(message)" + (message.contains("HINT:") ? "" : "\nHINT: every key is described in docs/pipelines.md."))
    }
}
