import Foundation
import ONNXProto
import TensorCore

/// Reads ONNX models into the graph IR.
public enum ONNXImporter {
    /// Parses serialized ONNX `data` (from `file`, named in errors; external data is read from
    /// files in its folder) into a graph.
    public static func importModel(from data: Data, file: String, dimensions: InputDimensions = .none) throws -> Graph {
        var model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ModelPressError.invalidModel(
                file: file, location: "ONNX protobuf", message: "cannot be parsed (\(error))",
                hint: "the file is truncated or damaged, or not an ONNX model; export it again")
        }
        guard model.hasGraph, !model.graph.node.isEmpty || !model.graph.output.isEmpty else {
            throw ModelPressError.invalidModel(
                file: file, location: "ONNX model", message: "has no graph",
                hint: "the file is truncated or damaged, or not an ONNX model; export it again")
        }
        let opsets = model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let opset = opsets.first.map({ Int($0.version) }) else {
            throw ModelPressError.invalidModel(
                file: file, location: "ONNX model", message: "imports no version of the default ai.onnx opset",
                hint: "export the model with a standard ONNX opset (13 or later recommended)")
        }
        try ONNXExternalData.inline(&model.graph, folder: (file as NSString).deletingLastPathComponent, file: file)
        var folding = try QDQFolding(try QOperatorExpansion.expand(model.graph, file: file), file: file)
        // The weights' bytes are handed over to the context, which frees each initializer's bytes
        // once it has made its tensor: a model is held about once, not twice.
        model.graph = Onnx_GraphProto()
        let halfPrecision = halfPrecisionValues(of: folding.graph)
        var initializers = folding.graph.initializer
        folding.graph.initializer = []
        var context = try ONNXImportContext(
            file: file, opset: opset, graph: folding.graph, initializers: &initializers, weights: folding.weights, dimensions: dimensions)
        folding.weights = [:]
        if let entry = model.metadataProps.first(where: { $0.key == MaskedRecurrenceRecord.metadataKey }) {
            guard let records = try? JSONDecoder().decode([MaskedRecurrenceRecord].self, from: Data(entry.value.utf8)) else {
                throw ModelPressError.invalidModel(
                    file: file, location: "metadata '\(entry.key)'", message: "cannot be parsed", hint: "export the model again with ModelPress")
            }
            try context.readMaskedRecurrences(records)
        }
        var graph = try context.run()
        graph.halfPrecision = halfPrecision.intersection(graph.shapes.keys)
        for (name, q) in folding.quantization.sorted(by: { $0.key < $1.key }) {
            guard let shape = graph.shapes[name] else { continue }
            try q.validate(for: shape) { message in
                ModelPressError.invalidModel(
                    file: file, location: "quantized value '\(name)'", message: message,
                    hint: "re-export the quantized model; its scales and zero points do not fit the tensor")
            }
            graph.quantization[name] = q
        }
        for entry in model.metadataProps where entry.key != MaskedRecurrenceRecord.metadataKey { graph.metadata[entry.key] = entry.value }
        graph.metadata["source_format"] = "onnx"
        graph.metadata["onnx.producer"] = model.producerName + (model.producerVersion.isEmpty ? "" : " " + model.producerVersion)
        graph.metadata["onnx.opset"] = String(opset)
        return graph
    }

    /// Reads and imports the ONNX file at `path`.
    public static func importModel(path: String) throws -> Graph {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelPressError.fileNotFound(path: path) }
        return try importModel(from: data, file: path)
    }
}
