import Foundation
import TensorCore
import ZIPFoundation

/// Keras model files read into the IR: legacy HDF5 full models, weights-only HDF5 plus an
/// architecture JSON, and Keras 3 `.keras` archives (the format-neutral `ModelLoader` of the
/// ModelLoading module picks the format and calls these).
public enum KerasModelFile {
    /// What a Keras HDF5 file holds.
    public enum HDF5Kind: Sendable {
        /// `model.save("m.h5")`: `model_config` plus weights.
        case fullModel
        /// `save_weights`: layer weights only; the architecture comes from a JSON file.
        case weightsOnly
    }

    /// The kind of Keras HDF5 file `file` is, or nil when it is not a Keras model.
    public static func kind(of file: HDF5File) -> HDF5Kind? {
        let root = file.root
        if root.hasAttribute("model_config") { return .fullModel }
        if root.hasAttribute("layer_names") || root.kind(of: "layers") == .group { return .weightsOnly }
        return nil
    }

    /// Reads the Keras HDF5 model `file`. A weights-only file needs its architecture JSON
    /// (`model.to_json()`): `architecture`, or else `<stem>.json` beside the weights.
    public static func load(hdf5 file: HDF5File, weightsOnly: Bool, architecture: String?, dimensions: InputDimensions = .none) throws -> Graph {
        let path = file.path, root = file.root
        let configFile = weightsOnly ? try architecture ?? defaultArchitecturePath(for: path) : path
        let config = weightsOnly ? try readText(configFile) : try root.stringAttribute("model_config")
        return try KerasImporter.importModel(
            config: config, configFile: configFile, weights: try KerasWeightStore.detect(in: root),
            kerasVersion: try? root.stringAttribute("keras_version"), dimensions: dimensions)
    }

    /// Reads a Keras 3 `.keras` archive.
    public static func loadArchive(_ path: String, dimensions: InputDimensions = .none) throws -> Graph {
        try KerasArchive.load(path, dimensions: dimensions)
    }

    /// `m.weights.h5` / `m_weights.h5` / `m.h5` → `m.json` beside it, if it exists.
    static func defaultArchitecturePath(for weights: String) throws -> String {
        let url = URL(fileURLWithPath: weights)
        var stem = url.lastPathComponent
        for suffix in [".weights.h5", "_weights.h5", ".h5", ".hdf5"] where stem.hasSuffix(suffix) {
            stem = String(stem.dropLast(suffix.count))
            break
        }
        let candidate = url.deletingLastPathComponent().appendingPathComponent(stem + ".json").path
        guard FileManager.default.fileExists(atPath: candidate) else {
            throw ModelPressError.invalidModel(
                file: weights, location: "file", message: "holds weights only (no model_config)",
                hint: "pass the architecture JSON (model.to_json()) with --architecture, or put it beside the weights as \(candidate)")
        }
        return candidate
    }

    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelPressError.fileNotFound(path: path) }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Converts a Keras model config plus weights into the IR.
enum KerasImporter {
    static func importModel(
        config: String, configFile: String, weights: KerasWeightStore, kerasVersion: String?, dimensions: InputDimensions = .none
    ) throws -> Graph {
        let spec = try KerasModelSpec(json: config, file: configFile)
        let major = kerasVersion.flatMap { Int($0.prefix { $0.isNumber }) } ?? (spec.isKeras3Layout ? 3 : 2)
        var builder = KerasGraphBuilder(file: configFile, name: spec.name, weights: weights, kerasMajor: major, dimensions: dimensions)
        var graph = try builder.build(spec)
        graph.metadata["keras_version"] = kerasVersion ?? "\(major).x"
        return graph
    }
}

/// Keras 3 `.keras` archives: `config.json` + `model.weights.h5` in a zip.
enum KerasArchive {
    static func load(_ path: String, dimensions: InputDimensions = .none) throws -> Graph {
        let archive = try KerasArchiveReader(path)
        let config = String(decoding: try archive.data("config.json"), as: UTF8.self)
        let metadata = try? JSONValue.parse(String(decoding: try archive.data("metadata.json"), as: UTF8.self))
        // libhdf5 reads files: put the weights in a private temporary file for the import.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("modelpress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let weightsPath = directory.appendingPathComponent("model.weights.h5").path
        do {
            try archive.write("model.weights.h5", to: weightsPath)
            let file = try HDF5File(readingFrom: weightsPath)
            return try KerasImporter.importModel(
                config: config, configFile: path, weights: try KerasWeightStore.detect(in: file.root),
                kerasVersion: metadata?["keras_version"]?.string, dimensions: dimensions)
        } catch let error as ModelPressError {
            throw error.replacingFile(weightsPath, with: "\(path)!model.weights.h5")
        }
    }
}

extension KerasModelSpec {
    /// Whether the config uses Keras 3's serialization (layers carry a `module`).
    var isKeras3Layout: Bool { layers.contains { $0.module != nil } }
}

extension ModelPressError {
    /// The same error with a temporary file's path replaced by what the user knows it as.
    func replacingFile(_ temporary: String, with shown: String) -> ModelPressError {
        switch self {
        case .hdf5(temporary, let object, let operation, let stack): return .hdf5(file: shown, object: object, operation: operation, stack: stack)
        case .missingEntry(temporary, let p, let available): return .missingEntry(file: shown, path: p, available: available)
        case .invalidModel(temporary, let l, let m, let h): return .invalidModel(file: shown, location: l, message: m, hint: h)
        case .invalidData(temporary, let p, let m): return .invalidData(file: shown, path: p, message: m)
        case .unrecognizedFormat(temporary, let d): return .unrecognizedFormat(path: shown, detail: d)
        case .libraryFailure(temporary, let l, let d): return .libraryFailure(file: shown, library: l, detail: d)
        case .fileNotFound(temporary): return .fileNotFound(path: shown)
        default: return self
        }
    }
}
