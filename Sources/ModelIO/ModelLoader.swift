import Foundation
import ONNXIO
import TensorCore
import ZIPFoundation

/// Model file formats ModelPress reads, recognised by content.
public enum ModelFormat: String, Sendable {
    /// Keras legacy HDF5 full model (`model.save("m.h5")`, Keras 2 or 3).
    case kerasH5 = "keras-h5"
    /// Keras 3 archive (zip with `config.json` + `model.weights.h5`).
    case kerasArchive = "keras-archive"
    /// Weights-only HDF5 (`save_weights`) read together with an architecture JSON.
    case kerasWeights = "keras-weights"
    /// ONNX protobuf.
    case onnx
}

/// Loads any supported model file into the graph IR.
public enum ModelLoader {
    /// Reads the model at `path`. A weights-only file needs its architecture JSON
    /// (`model.to_json()`): `architecture`, or else `<stem>.json` beside the weights.
    public static func load(_ path: String, architecture: String? = nil) throws -> Graph {
        let (format, hdf5) = try classify(path)
        var graph: Graph
        switch format {
        case .kerasH5, .kerasWeights:
            guard let root = hdf5?.root else { throw ModelPressError.internalError("\(path): HDF5 file not kept open") }
            let configFile = format == .kerasH5 ? path : try architecture ?? defaultArchitecturePath(for: path)
            let config = format == .kerasH5 ? try root.stringAttribute("model_config") : try readText(configFile)
            graph = try KerasImporter.importModel(config: config, configFile: configFile, weights: try KerasWeightStore.detect(in: root),
                                                  kerasVersion: try? root.stringAttribute("keras_version"))
        case .kerasArchive:
            graph = try KerasArchive.load(path)
        case .onnx:
            guard let data = FileManager.default.contents(atPath: path) else { throw ModelPressError.fileNotFound(path: path) }
            graph = try ONNXImporter.importModel(from: data, file: path)
        }
        graph.metadata["source_format"] = format.rawValue
        graph.metadata["source_sha256"] = try FileDigest.sha256(ofFileAt: path)
        return graph
    }

    /// The format of the file at `path`, from its first bytes and (for HDF5) its contents.
    public static func detectFormat(_ path: String) throws -> ModelFormat {
        try classify(path).format
    }

    /// The format, and for HDF5 models the file already opened to classify it (read once).
    private static func classify(_ path: String) throws -> (format: ModelFormat, hdf5: HDF5File?) {
        guard FileManager.default.isReadableFile(atPath: path),
              let handle = FileHandle(forReadingAtPath: path) else { throw ModelPressError.fileNotFound(path: path) }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        try? handle.close()
        if head.starts(with: [0x50, 0x4b, 0x03, 0x04]) { return (.kerasArchive, nil) }
        if HDF5File.isHDF5(path) {
            let file = try HDF5File(readingFrom: path)
            let root = file.root
            if root.hasAttribute("model_config") { return (.kerasH5, file) }
            if root.hasAttribute("layer_names") || root.kind(of: "layers") == .group { return (.kerasWeights, file) }
            let contents = ((try? root.children()) ?? []).joined(separator: ", ")
            throw ModelPressError.unrecognizedFormat(
                path: path, detail: "is an HDF5 file but not a Keras model: no model_config attribute and no layer weights (it holds: \(contents)). A dataset goes after --data")
        }
        if path.lowercased().hasSuffix(".json") {
            throw ModelPressError.unrecognizedFormat(path: path, detail: "an architecture JSON holds no weights.\nHINT: pass the weights file as MODEL and this JSON with --architecture")
        }
        // ONNX has no magic number: a protobuf starting with field 1 (ir_version, varint) = 0x08.
        if head.first == 0x08 { return (.onnx, nil) }
        throw ModelPressError.unrecognizedFormat(path: path, detail: "not a Keras HDF5, .keras archive or ONNX file")
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
            throw ModelPressError.invalidModel(file: weights, location: "file", message: "holds weights only (no model_config)",
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
    static func importModel(config: String, configFile: String, weights: KerasWeightStore, kerasVersion: String?) throws -> Graph {
        let spec = try KerasModelSpec(json: config, file: configFile)
        let major = kerasVersion.flatMap { Int($0.prefix { $0.isNumber }) } ?? (spec.isKeras3Layout ? 3 : 2)
        var builder = KerasGraphBuilder(file: configFile, name: spec.name, weights: weights, kerasMajor: major)
        var graph = try builder.build(spec)
        graph.metadata["keras_version"] = kerasVersion ?? "\(major).x"
        return graph
    }
}

/// Keras 3 `.keras` archives: `config.json` + `model.weights.h5` in a zip.
enum KerasArchive {
    static func load(_ path: String) throws -> Graph {
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
            return try KerasImporter.importModel(config: config, configFile: path, weights: try KerasWeightStore.detect(in: file.root),
                                                 kerasVersion: metadata?["keras_version"]?.string)
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
