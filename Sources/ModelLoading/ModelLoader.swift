import Foundation
import ModelIO
import ONNXIO
import TensorCore

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
    /// (`model.to_json()`): `architecture`, or else `<stem>.json` beside the weights. Input axes
    /// of unknown size are fixed by `--dim` (`MODELPRESS_DIMS`), else from `samples`: the sample
    /// shapes of the datasets the model will read, by name (`DatasetFile.sampleShapes`).
    public static func load(_ path: String, architecture: String? = nil, samples: [(name: String, shape: [Int])] = []) throws -> Graph {
        if let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int { try MemoryBudget.checkRead(size, file: path) }
        let (format, hdf5) = try classify(path)
        let dimensions = InputDimensions(named: InputDimensions.fromEnvironment, samples: samples)
        var graph: Graph
        switch format {
        case .kerasH5, .kerasWeights:
            guard let file = hdf5 else { throw ModelPressError.internalError("\(path): HDF5 file not kept open") }
            graph = try KerasModelFile.load(hdf5: file, weightsOnly: format == .kerasWeights, architecture: architecture, dimensions: dimensions)
        case .kerasArchive:
            graph = try KerasModelFile.loadArchive(path, dimensions: dimensions)
        case .onnx:
            guard let data = FileManager.default.contents(atPath: path) else { throw ModelPressError.fileNotFound(path: path) }
            graph = try ONNXImporter.importModel(from: data, file: path, dimensions: dimensions)
        }
        try LoadChecks.checkSizes(graph, file: path)
        for warning in try LoadChecks.checkFinite(graph, file: path, policy: nonFinitePolicy) {
            FileHandle.standardError.writeBestEffort(Data((warning + "\n").utf8))
        }
        graph.metadata["source_format"] = format.rawValue
        graph.metadata["source_sha256"] = try FileDigest.sha256(ofFileAt: path)
        graph.metadata["source_path"] = path  // for messages (not exported: only `modelpress.*` keys are)
        return graph
    }

    /// NaN / Inf weights: `.refuse` under `MODELPRESS_STRICT=1` (the CLI's `--strict` sets it;
    /// pipeline stages and batch entries inherit it), else `.warn` on standard error.
    public static var nonFinitePolicy: NonFiniteWeightPolicy {
        ProcessInfo.processInfo.environment["MODELPRESS_STRICT"] == "1" ? .refuse : .warn
    }

    /// The format of the file at `path`, from its first bytes and (for HDF5) its contents.
    public static func detectFormat(_ path: String) throws -> ModelFormat {
        try classify(path).format
    }

    /// The format, and for HDF5 models the file already opened to classify it (read once).
    private static func classify(_ path: String) throws -> (format: ModelFormat, hdf5: HDF5File?) {
        guard FileManager.default.isReadableFile(atPath: path),
            let handle = FileHandle(forReadingAtPath: path)
        else { throw ModelPressError.fileNotFound(path: path) }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        try? handle.close()
        if head.starts(with: [0x50, 0x4b, 0x03, 0x04]) { return (.kerasArchive, nil) }
        if HDF5File.isHDF5(path) {
            let file = try HDF5File(readingFrom: path)
            switch KerasModelFile.kind(of: file) {
            case .fullModel?: return (.kerasH5, file)
            case .weightsOnly?: return (.kerasWeights, file)
            case nil: break
            }
            let contents = ((try? file.root.children()) ?? []).joined(separator: ", ")
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
}
