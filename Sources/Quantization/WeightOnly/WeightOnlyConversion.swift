import Engine
import Evaluation
import Foundation
import ONNXIO
import TensorCore

/// `modelpress quantize --precision int4-weights | int8-weights` end to end: quantize the
/// weights in blocks, write the ONNX file (blocked DequantizeLinear, or MatMulNBits when
/// allowed), and compare its outputs with the float32 model's on the calibration data if given.
public enum WeightOnlyConversion {
    /// Quantizes the float `graph` (read from `model`) and writes the ONNX file to `out` atomically.
    public static func run(
        _ graph: Graph, model: String, out: String, options: WeightOnlyOptions, calibration: (any BatchSource)?, samples: Int? = nil,
        batchSize: Int = 64
    ) throws -> WeightOnlySummary {
        guard graph.quantization.isEmpty, graph.halfPrecision.isEmpty else {
            throw ModelPressError.invalidArgument("\(model) is already quantized or in float16.\nHINT: quantize the float32 model.")
        }
        guard !(options.allowContribOps && options.scaleType == .float16) else {
            throw ModelPressError.invalidArgument(
                "--scale-type float16 with --allow-contrib-ops: MatMulNBits takes float32 scales (the type of its input).\nHINT: leave out --scale-type, or --allow-contrib-ops for the standard form.")
        }
        let started = Date()
        let prepared = try inferenceGraph(graph)
        var inputs: [String: ActivationAwareScaling.InputSample]?
        if options.activationAware {
            guard let calibration else { throw ModelPressError.invalidArgument("--activation-aware needs --calibration (the activations it weighs channels by).") }
            let dense = prepared.nodes.filter { if case .linear = $0.op { true } else { false } }.map(\.name)
            inputs = try ActivationAwareScaling.collect(prepared, nodes: dense, data: calibration, samples: samples, batchSize: batchSize)
        }
        let (quantized, layers) = try WeightOnlyQuantizer.quantize(prepared, options: options, inputs: inputs)
        guard !layers.isEmpty else {
            throw ModelPressError.invalidArgument("\(model): no Dense or Embedding weight to quantize (weight-only quantization stores Dense / MatMul kernels and Embedding tables).")
        }
        if options.opset < 21, let layer = layers.first(where: { !(options.allowContribOps && $0.op == "Linear" && $0.axis == 0) }) {
            throw ModelPressError.invalidArgument(
                "layer '\(layer.layer)' (\(layer.op) weight '\(layer.weight)'): \(layer.type) in blocks of \(layer.blockSize) is written as DequantizeLinear, which takes blocks and 4-bit types from opset 21; --opset is \(options.opset).\nHINT: use --opset 21 (the default)"
                    + (options.allowContribOps ? ", or --exclude the layer." : ", or --allow-contrib-ops to write Dense layers as onnxruntime's MatMulNBits."))
        }
        var export = ONNXExportOptions()
        export.opset = options.opset
        export.optimize = false
        export.matMulNBits = options.allowContribOps
        export.compressionSummary = try metadata(options)
        let written = try ONNXExporter.write(quantized, to: out, options: export)
        export.compressionSummary = nil
        export.matMulNBits = false
        let floatBytes = try ONNXExporter.export(prepared, options: export).bytes
        let comparison = try calibration.map { try OutputComparison(reference: prepared, candidate: written.graph, data: $0, batchSize: batchSize) }
        let quantizedWeights = Set(layers.map(\.weight))
        let otherWeights = prepared.initializers.filter { !quantizedWeights.contains($0.key) }.values.reduce(0) { $0 + 4 * $1.count }
        var floatLayers: [String: String] = [:]
        for node in prepared.nodes where (options.exclude.contains(node.name) || options.exclude.contains(node.layer)) && node.op.definition.blockQuantizedWeight != nil {
            floatLayers[node.name] = "excluded (--exclude)"
        }
        return WeightOnlySummary(
            model: model, out: out, precision: "int\(options.bits)-weights", format: options.allowContribOps ? "matmulnbits" : "qdq", opset: options.opset,
            blockSize: options.blockSize, scheme: options.scheme.rawValue, scales: options.scales.rawValue, scaleType: options.scaleType.rawValue,
            bytes: written.bytes, floatBytes: floatBytes, weightBytes: otherWeights + layers.reduce(0) { $0 + $1.bytes },
            floatWeightBytes: prepared.initializers.values.reduce(0) { $0 + 4 * $1.count }, seconds: Date().timeIntervalSince(started),
            layers: layers, floatLayers: floatLayers, drift: comparison?.drift, agreement: comparison?.agreement)
    }

    /// `modelpress.compression` metadata: the settings, compact with sorted keys.
    static func metadata(_ options: WeightOnlyOptions) throws -> String {
        struct Metadata: Encodable {
            var precision: String, block_size: Int, scheme: String, scales: String, scale_type: String, activation_aware: Bool?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let value = Metadata(
            precision: "int\(options.bits)-weights", block_size: options.blockSize, scheme: options.scheme.rawValue,
            scales: options.scales.rawValue, scale_type: options.scaleType.rawValue, activation_aware: options.activationAware ? true : nil)
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
