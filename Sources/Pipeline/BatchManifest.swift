import Foundation
import TensorCore

/// A batch manifest (format version 1): entries, each a pipeline with optional overrides,
/// plus an optional `matrix` of pipelines × models. Paths are relative to the manifest.
public struct BatchManifest: Sendable {
    /// One pipeline run of the batch.
    public struct Entry: Sendable, Equatable {
        /// Unique name: the run folder `OUT/<name>/` and the key for sharding.
        public var name: String
        /// The pipeline file (absolute).
        public var pipeline: String
        /// `--set` overrides for `modelpress run` (paths absolute).
        public var overrides: [String]
    }

    public var entries: [Entry]

    /// Reads and checks the manifest at `path` (structure, pipeline files, unique names).
    /// Models are not opened here: a broken model fails its own entry, not the batch.
    public static func load(_ path: String) throws -> BatchManifest {
        var top = try MappingReader(try YAMLNode.load(path), context: "the manifest")
        guard let version = try top.integer("version") else { throw YAMLError.at(top.location, "the manifest has no 'version'; write `version: 1` first.") }
        guard version.value == 1 else { throw YAMLError.at(version.location, "manifest format version \(version.value) is not supported; supported: 1.") }
        let entryNodes = top.node("entries")
        let matrixNode = top.node("matrix")
        try top.finish()
        var entries: [(Entry, SourceLocation)] = []
        if let entryNodes {
            guard case .sequence(let items, _) = entryNodes else {
                throw YAMLError.at(entryNodes.location, "'entries' must be a list, not a \(entryNodes.typeName).")
            }
            for item in items { entries.append((try entry(item), item.location)) }
        }
        if let matrixNode { entries += try matrix(matrixNode) }
        guard !entries.isEmpty else { throw YAMLError.at(top.location, "the manifest has no entries; add `entries:` or `matrix:`.") }
        var seen: [String: SourceLocation] = [:]
        for (entry, location) in entries {
            if let first = seen[entry.name] {
                throw YAMLError.at(location, "entry name '\(entry.name)' is used twice (first at \(first)); give one a `name:`.")
            }
            seen[entry.name] = location
        }
        return BatchManifest(entries: entries.map(\.0))
    }

    private static func entry(_ node: YAMLNode) throws -> Entry {
        var reader = try MappingReader(node, context: "a manifest entry")
        guard let pipeline = try reader.string("pipeline") else { throw YAMLError.at(reader.location, "the entry has no 'pipeline'.") }
        let path = try PathResolver.existingFile(pipeline.value, at: pipeline.location, what: "pipeline")
        var overrides: [String] = []
        var stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        if let model = try reader.string("model") {
            overrides.append("model=\(PathResolver.absolute(model.value, at: model.location))")
            stem += "--" + modelLabel(model.value)
        }
        if let set = reader.node("set") {
            guard case .mapping(let pairs, _) = set else {
                throw YAMLError.at(set.location, "'set' of an entry is a mapping of pipeline keys to values, e.g. { seed: 3, stages.1.method: entropy }.")
            }
            for pair in pairs {
                guard case .scalar(let value) = pair.value else {
                    throw YAMLError.at(pair.value.location, "'set' values are plain values, not a \(pair.value.typeName).")
                }
                // A value naming a file beside the manifest becomes absolute; anything else is passed as written.
                let resolved = PathResolver.absolute(value.text, at: value.location)
                overrides.append("\(pair.key)=\(FileManager.default.fileExists(atPath: resolved) ? resolved : value.text)")
            }
        }
        let name = try reader.string("name")
        try reader.finish()
        let entryName = name?.value ?? stem
        try checkName(entryName, at: name?.location ?? reader.location)
        return Entry(name: entryName, pipeline: path, overrides: overrides + ["name=\(entryName)"])
    }

    private static func matrix(_ node: YAMLNode) throws -> [(Entry, SourceLocation)] {
        var reader = try MappingReader(node, context: "'matrix'")
        func list(_ key: String) throws -> [(String, SourceLocation)] {
            guard case .sequence(let items, _)? = reader.node(key) else {
                throw YAMLError.at(reader.location, "'matrix' needs a list '\(key)'.")
            }
            return try items.map {
                guard case .scalar(let s) = $0, s.kind != .null else { throw YAMLError.at($0.location, "'\(key)' lists file paths.") }
                return (s.text, s.location)
            }
        }
        let pipelines = try list("pipelines"), models = try list("models")
        try reader.finish()
        var entries: [(Entry, SourceLocation)] = []
        for (pipeline, pipelineLocation) in pipelines {
            let path = try PathResolver.existingFile(pipeline, at: pipelineLocation, what: "pipeline")
            for (model, modelLocation) in models {
                let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + "--" + modelLabel(model)
                try checkName(name, at: modelLocation)
                entries.append(
                    (
                        Entry(
                            name: name, pipeline: path,
                            overrides: ["model=\(PathResolver.absolute(model, at: modelLocation))", "name=\(name)"]), modelLocation
                    ))
            }
        }
        return entries
    }

    /// A model's part of a default entry name: its folder and stem (`keras3-cnn`), so models of
    /// the same name in different folders stay apart.
    private static func modelLabel(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).deletingPathExtension()
        let folder = url.deletingLastPathComponent().lastPathComponent
        return folder.isEmpty || folder == "/" || folder == "." ? url.lastPathComponent : "\(folder)-\(url.lastPathComponent)"
    }

    private static func checkName(_ name: String, at location: SourceLocation) throws {
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil else {
            throw YAMLError.at(location, "entry name '\(name)' must be letters, digits, '.', '_' or '-'.")
        }
    }
}

/// `--shard K/N`: a deterministic 1/N of the entries, by a stable hash (FNV-1a) of the name,
/// so the same manifest splits the same way on every machine.
public struct Shard: Sendable, Equatable {
    /// 1-based shard number.
    public var index: Int
    public var count: Int

    /// Parses `K/N` with 1 ≤ K ≤ N.
    public init(_ text: String) throws {
        let parts = text.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let k = parts[0], let n = parts[1], n >= 1, (1...n).contains(k) else {
            throw ModelPressError.invalidArgument("--shard \(text): expected K/N with 1 ≤ K ≤ N, e.g. --shard 2/3")
        }
        index = k
        count = n
    }

    /// Whether the entry named `name` belongs to this shard.
    public func contains(_ name: String) -> Bool {
        Int(Self.fnv1a(name) % UInt64(count)) == index - 1
    }

    /// 64-bit FNV-1a of the UTF-8 bytes.
    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
