import Foundation
import TensorCore
import Training

/// The outcome of one quantization run: settings, the file written and each quantized layer
/// (the `--json` object of `modelpress quantize`).
public struct QuantizationSummary: Encodable, Sendable {
    /// One quantized layer.
    public struct Layer: Encodable, Sendable {
        /// IR node, source layer, and weight channels (1 per tensor).
        public var node: String, layer: String, channels: Int
        /// Smallest and largest weight scale.
        public var weightScaleMin: Float, weightScaleMax: Float
        /// Input / output scale and zero point (nil: quantized at run time, or float).
        public var inputScale: Float?, inputZeroPoint: Int32?, outputScale: Float?, outputZeroPoint: Int32?
        /// The output type, and the activation folded into the output range.
        public var activationType: String, foldedActivation: String?
        /// Bits, scheme, stored bytes, and the output error vs float (nil SQNR: exact).
        public var bits: Int, scheme: String, biasShift: Float? = nil, smoothQuantScale: Float? = nil, equalizationScale: Float? = nil, bytes: Int, sqnrDB: Double?, mse: Double
        enum CodingKeys: String, CodingKey {
            case node, layer, channels, bits, scheme, bytes, mse
            case biasShift = "bias_shift_max_abs", smoothQuantScale = "smoothquant_max_scale", equalizationScale = "cle_max_scale"
            case sqnrDB = "sqnr_db"
            case weightScaleMin = "weight_scale_min", weightScaleMax = "weight_scale_max"
            case inputScale = "input_scale", inputZeroPoint = "input_zero_point"
            case outputScale = "output_scale", outputZeroPoint = "output_zero_point"
            case activationType = "activation_type", foldedActivation = "folded_activation"
        }
    }

    /// Model and output paths, and the settings as written in the file's metadata.
    public var model: String, out: String, format: String, method: String, weights: String, activations: String
    /// Bits of activations and of Conv / Dense weights, scheme, dynamic or not, and the opset written.
    public var bits: Int, weightBits: Int, scheme: String, dynamic: Bool, opset: Int
    /// Calibration samples used, output bytes, and wall time.
    public var calibrationSamples: Int, bytes: Int, seconds: Double
    /// The quantized layers, the layers and activations kept float.
    public var layers: [Layer], floatLayers: [String], floatActivations: [String] = []
    /// The accuracy-budget search, when one ran.
    public var budget: QuantizationBudgetReport?
    /// The quantization-aware training epochs, when QAT ran.
    public var qat: [EpochRecord]? = nil
    /// With SmoothQuant: the Dense layers whose input was left as it was, and why (by node).
    public var smoothQuantSkipped: [String: String]? = nil
    /// With `--quantize-ops`: per selected op, the nodes computed between int8 Q/DQ pairs.
    public var quantizedOps: [String: [String]]? = nil
    enum CodingKeys: String, CodingKey {
        case model, out, format, method, weights, activations, bytes, seconds, layers, budget, bits, scheme, dynamic, opset, qat
        case calibrationSamples = "calibration_samples", floatLayers = "float_layers", floatActivations = "float_activations"
        case weightBits = "weight_bits", smoothQuantSkipped = "smoothquant_skipped", quantizedOps = "quantize_ops"
    }

    /// `modelpress.compression` metadata of the ONNX file: the settings, compact and with sorted keys.
    static func compressionMetadata(
        format: String, method: String, weights: String, activations: String, bits: Int, weightBits: Int? = nil, biasCorrection: Bool? = nil,
        qatEpochs: Int? = nil, smoothQuantAlpha: Float? = nil, crossLayerEqualization: Bool? = nil, quantizeOps: [String]? = nil, scheme: String,
        dynamic: Bool, samples: Int, layers: Int, float: [String], floatActivations: [String]
    ) throws -> String {
        struct Metadata: Encodable {
            var quantization: Settings
        }
        struct Settings: Encodable {
            var format: String, method: String, weights: String, activations: String
            var bits: Int, weight_bits: Int?, bias_correction: Bool?, qat_epochs: Int?, smoothquant_alpha: Float?, cross_layer_equalization: Bool?
            var quantize_ops: [String]?, scheme: String, dynamic: Bool
            var calibration_samples: Int, quantized_layers: Int, float_layers: [String], float_activations: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let value = Metadata(
            quantization: Settings(
                format: format, method: method, weights: weights, activations: activations, bits: bits,
                weight_bits: weightBits, bias_correction: biasCorrection, qat_epochs: qatEpochs, smoothquant_alpha: smoothQuantAlpha,
                cross_layer_equalization: crossLayerEqualization, quantize_ops: quantizeOps, scheme: scheme, dynamic: dynamic, calibration_samples: samples,
                quantized_layers: layers,
                float_layers: float, float_activations: floatActivations))
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Bytes the quantized layer `node` stores in `graph`: int4 / int8 / int16 weights (½ / 1 / 2
    /// bytes each, int4 packed two per byte), bias (4 each, int32 or float), and per weight
    /// channel one float32 scale and one zero point of the weight type.
    static func storedBytes(of node: String, in graph: Graph) -> Int {
        guard let n = graph.nodes.first(where: { $0.name == node }) else { return 0 }
        // Every constant input: quantized weights as integers plus a scale and zero point per
        // channel; biases (int32 or float) and everything else 4 bytes an element.
        return n.inputs.reduce(0) { total, input in
            guard let t = graph.initializers[input] else { return total }
            guard let q = graph.quantization[input], q.type != .int32 else { return total + 4 * t.count }
            return total + (q.bits * t.count + 7) / 8 + 4 * q.scales.count + (q.bits * q.scales.count + 7) / 8
        }
    }
}
