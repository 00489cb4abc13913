import Engine
import Evaluation
import Foundation
import ONNXIO
import TensorCore

/// `modelpress quantize --precision fp16 | fp16-weights` end to end: measure value ranges on
/// the calibration data (when given), plan which nodes compute in float16, write the ONNX file,
/// and compare its outputs with the float32 model's in the engine.
public enum HalfPrecisionConversion {
    /// Converts the float `graph` (read from `model`) and writes the ONNX file to `out`
    /// atomically. `calibration`, when given, bounds each value's range and measures the drift.
    public static func run(
        _ graph: Graph, model: String, out: String, options: HalfPrecisionOptions, calibration: (any BatchSource)?,
        samples: Int? = nil, batchSize: Int = 64, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> HalfPrecisionSummary {
        guard graph.quantization.isEmpty, graph.halfPrecision.isEmpty else {
            throw ModelPressError.invalidArgument("\(model) is already quantized or in float16.\nHINT: convert the float32 model.")
        }
        let started = Date()
        let prepared = try inferenceGraph(graph)
        var ranges: [String: Float]?
        if let calibration {
            var calibrator = Calibrator(graph: prepared, values: Set(prepared.inputs.map(\.name) + prepared.nodes.flatMap(\.outputs)))
            calibrator.batchSize = batchSize
            let statistics = try calibrator.run(calibration, samples: samples, histograms: false, progress: progress)
            ranges = statistics.mapValues { max(abs($0.minMax.min), abs($0.minMax.max)) }
        }
        let (planned, layers) = try HalfPrecisionPlanner.plan(prepared, options: options, ranges: ranges)
        var export = ONNXExportOptions()
        export.opset = options.opset
        export.optimize = false
        export.compressionSummary = try metadata(options, layers: layers)
        let written = try ONNXExporter.write(planned, to: out, options: export)
        export.compressionSummary = nil
        let floatBytes = try ONNXExporter.export(prepared, options: export).bytes
        let comparison = try calibration.map { try OutputComparison(reference: prepared, candidate: written.graph, data: $0, batchSize: batchSize) }
        return HalfPrecisionSummary(
            model: model, out: out, precision: options.form.rawValue, opset: options.opset, keepIOTypes: options.keepIOTypes,
            calibrationSamples: calibration.map { min(samples ?? $0.count, $0.count) } ?? 0, bytes: written.bytes,
            floatBytes: floatBytes, seconds: Date().timeIntervalSince(started), layers: layers, drift: comparison?.drift,
            agreement: comparison?.agreement)
    }

    /// `modelpress.compression` metadata, compact with sorted keys: the form, and the nodes kept
    /// float32 when there are any (the types of inputs and outputs are the file's own).
    static func metadata(_ options: HalfPrecisionOptions, layers: [HalfPrecisionLayer]) throws -> String {
        struct Metadata: Encodable {
            var precision: String, float32_layers: [String]?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let float32 = options.form == .compute ? layers.filter { $0.precision != "fp16" }.map(\.node) : []
        let value = Metadata(precision: options.form.rawValue, float32_layers: float32.isEmpty ? nil : float32)
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
