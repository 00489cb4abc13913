import TensorCore
import Yams

/// `--set key=value` overrides applied to a parsed pipeline before validation: `seed=3`,
/// `data.test=other.h5`, `stages.2.method=entropy` (stage numbers start at 1). Values are
/// read as YAML scalars; paths in them are relative to the current folder.
enum SetOverride {
    /// The `file` of locations that came from the command line.
    static let sourceName = "--set"

    /// `root` with `override` applied.
    static func apply(_ override: String, to root: YAMLNode) throws -> YAMLNode {
        guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
            throw ModelPressError.invalidArgument("--set \(override): expected KEY=VALUE, e.g. --set stages.2.method=entropy")
        }
        let path = override[..<equals].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let text = String(override[override.index(after: equals)...])
        let location = SourceLocation(file: "\(sourceName) \(override)", line: 1, column: 1)
        let value = try scalar(text, location: location)
        return try set(value, at: path[...], in: root, override: override)
    }

    private static func scalar(_ text: String, location: SourceLocation) throws -> YAMLNode {
        var kind = YAMLScalar.Kind.string
        if let node = try? Yams.compose(yaml: text), case .scalar = node { kind = YAMLScalar.Kind(node.tag) }
        return .scalar(YAMLScalar(text: text, kind: kind, location: location))
    }

    private static func set(_ value: YAMLNode, at path: ArraySlice<String>, in node: YAMLNode, override: String) throws -> YAMLNode {
        guard let head = path.first else { return value }
        let rest = path.dropFirst()
        switch node {
        case .mapping(var entries, let location):
            if let i = entries.firstIndex(where: { $0.key == head }) {
                entries[i].value = try set(value, at: rest, in: entries[i].value, override: override)
            } else if rest.isEmpty {
                entries.append(YAMLEntry(key: head, keyLocation: value.location, value: value))
            } else {
                throw ModelPressError.invalidArgument("--set \(override): there is no '\(head)' to set inside.")
            }
            return .mapping(entries, location)
        case .sequence(var items, let location):
            guard let number = Int(head), (1...items.count).contains(number) else {
                throw ModelPressError.invalidArgument("--set \(override): '\(head)' is not a stage number 1…\(items.count).")
            }
            // A stage is `kind: {options}`: step through the kind so `stages.2.method` works.
            if case .mapping(let stage, let stageLocation) = items[number - 1], stage.count == 1,
                let kind = stage.first, rest.first != kind.key
            {
                var entry = kind
                let options: YAMLNode = if case .scalar(let s) = kind.value, s.kind == .null { .mapping([], kind.keyLocation) } else { kind.value }
                entry.value = try set(value, at: rest, in: options, override: override)
                items[number - 1] = .mapping([entry], stageLocation)
            } else {
                items[number - 1] = try set(value, at: rest, in: items[number - 1], override: override)
            }
            return .sequence(items, location)
        case .scalar:
            throw ModelPressError.invalidArgument("--set \(override): '\(head)' is inside a plain value, which has no keys.")
        }
    }
}
