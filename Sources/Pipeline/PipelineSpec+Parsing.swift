import Foundation
import TensorCore

extension PipelineSpec {
    /// The format versions this build reads.
    public static let supportedVersions = [1]

    /// Reads, overrides (`--set key=value`) and validates the pipeline at `path`: unknown keys,
    /// wrong types, missing files and stage orders that cannot work are reported with the
    /// file, line and column before any work starts.
    public static func load(_ path: String, overrides: [String] = []) throws -> PipelineSpec {
        var root = try YAMLNode.load(path)
        for override in overrides { root = try SetOverride.apply(override, to: root) }
        var spec = try PipelineSpec(root, file: path)
        try spec.checkStageOrder()
        spec.file = URL(fileURLWithPath: path).standardizedFileURL.path
        return spec
    }

    private init(_ root: YAMLNode, file: String) throws {
        var top = try MappingReader(root, context: "the pipeline")
        guard let version = try top.integer("version") else {
            throw YAMLError.at(top.location, "the pipeline has no 'version'; write `version: 1` first.")
        }
        guard Self.supportedVersions.contains(version.value) else {
            throw YAMLError.at(version.location, "pipeline format version \(version.value) is not supported by this modelpress; supported: \(Self.supportedVersions.map(String.init).joined(separator: ", ")).")
        }
        guard let name = try top.string("name") else { throw YAMLError.at(top.location, "the pipeline has no 'name'; it names the artifact folder.") }
        guard name.value.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil else {
            throw YAMLError.at(name.location, "name '\(name.value)' must be letters, digits, '.', '_' or '-' (it becomes a folder name).")
        }
        guard let model = try top.string("model") else { throw YAMLError.at(top.location, "the pipeline has no 'model'.") }
        let seed = try top.integer("seed")
        if let seed, seed.value < 0 { throw YAMLError.at(seed.location, "seed must be ≥ 0.") }
        let dataNode = top.node("data")
        guard let stagesNode = top.node("stages") else { throw YAMLError.at(top.location, "the pipeline has no 'stages'.") }
        try top.finish()

        self.version = version.value
        self.name = name.value
        self.file = file
        self.model = try PathResolver.existingFile(model.value, at: model.location, what: "model")
        self.data = try dataNode.map(Self.dataSpec) ?? DataSpec(train: nil, calibration: nil, test: nil, validation: nil, xKey: "x", yKey: "y")
        self.seed = UInt64(seed?.value ?? 0)
        guard case .sequence(let items, let location) = stagesNode else {
            throw YAMLError.at(stagesNode.location, "'stages' must be a list (lines starting with '- '), not a \(stagesNode.typeName).")
        }
        guard !items.isEmpty else { throw YAMLError.at(location, "'stages' is empty; list at least one stage.") }
        self.stages = try items.enumerated().map { try Self.stage($0.element, index: $0.offset + 1) }
    }

    private static func dataSpec(_ node: YAMLNode) throws -> DataSpec {
        var reader = try MappingReader(node, context: "'data'")
        func file(_ key: String) throws -> String? {
            try reader.string(key).map { try PathResolver.existingFile($0.value, at: $0.location, what: "data.\(key)") }
        }
        let spec = DataSpec(
            train: try file("train"), calibration: try file("calibration"), test: try file("test"),
            validation: try file("validation"),
            xKey: try reader.string("x_key")?.value ?? "x", yKey: try reader.string("y_key")?.value ?? "y")
        try reader.finish()
        return spec
    }

    private static func stage(_ node: YAMLNode, index: Int) throws -> StageSpec {
        let kinds = StageKind.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .mapping(let entries, _) = node, entries.count == 1, let entry = entries.first else {
            throw YAMLError.at(node.location, "stage \(index) must be one `kind: {options}` pair, e.g. `- quantize: { method: entropy }`; kinds: \(kinds).")
        }
        guard let kind = StageKind(rawValue: entry.key) else {
            throw YAMLError.at(entry.keyLocation, "unknown stage kind '\(entry.key)'; kinds: \(kinds).")
        }
        let title = "stage \(index) (\(kind.rawValue))"
        var options: [StageOption] = []
        switch entry.value {
        case .scalar(let s) where s.kind == .null:
            break
        case .mapping(let pairs, _):
            for pair in pairs { options.append(try option(pair, kind: kind, title: title)) }
        default:
            throw YAMLError.at(entry.value.location, "the options of \(title) must be a mapping ({ key: value }), not a \(entry.value.typeName).")
        }
        return StageSpec(index: index, kind: kind, location: entry.keyLocation, options: options)
    }

    private static func option(_ pair: YAMLEntry, kind: StageKind, title: String) throws -> StageOption {
        if kind.reservedKeys.contains(pair.key) {
            throw YAMLError.at(pair.keyLocation, "'\(pair.key)' in \(title) is set by the pipeline (stage inputs, outputs and reports go to the run folder); remove it.")
        }
        guard pair.key.range(of: #"^[a-z][a-z0-9_]*$"#, options: .regularExpression) != nil else {
            throw YAMLError.at(pair.keyLocation, "option '\(pair.key)' in \(title): keys are snake_case words, e.g. max_drop.")
        }
        let value: StageOption.Value
        switch pair.value {
        case .scalar(let s):
            switch s.kind {
            case .null: throw YAMLError.at(s.location, "'\(pair.key)' in \(title) has no value.")
            case .bool: value = .flag(["true", "yes", "on"].contains(s.text.lowercased()))
            default: value = .scalar(s.text)
            }
        case .sequence(let items, _):
            value = .list(
                try items.map { item in
                    guard case .scalar(let s) = item, s.kind != .null, s.kind != .bool else {
                        throw YAMLError.at(item.location, "'\(pair.key)' in \(title) must be a list of words or numbers, not of \(item.typeName)s.")
                    }
                    return s.text
                })
        case .mapping:
            throw YAMLError.at(pair.value.location, "'\(pair.key)' in \(title) must be a number, a word, true/false or a list, not a mapping.")
        }
        var option = StageOption(key: pair.key, value: value, location: pair.value.location, keyLocation: pair.keyLocation)
        if kind.pathKeys.contains(pair.key), let text = option.text {
            option.value = .scalar(try PathResolver.stageReference(text, key: pair.key, at: option.location, title: title))
        }
        if kind == .verify, pair.key == "shifted_data", let text = option.text {
            option.value = .scalar(try PathResolver.namedFiles(text, key: pair.key, at: option.location, title: title))
        }
        if kind == .export, pair.key == "path", let text = option.text {
            try PathResolver.checkArtifactName(text, at: option.location)
        }
        return option
    }
}
