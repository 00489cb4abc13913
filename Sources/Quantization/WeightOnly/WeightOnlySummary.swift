import Evaluation
import Foundation

/// The outcome of one weight-only quantization (the `--json` object of `quantize --precision
/// int4-weights | int8-weights`).
public struct WeightOnlySummary: Encodable, Sendable {
    /// Model and output paths, the precision, the ONNX form (`qdq` or `matmulnbits`) and the opset.
    public var model: String, out: String, precision: String, format: String, opset: Int
    /// Block size, `symmetric` or `asymmetric`, the scale search (`rtn`, `mse`) and the scale
    /// type asked for (`float16`, `float32`; each layer says what it got).
    public var blockSize: Int, scheme: String, scales: String, scaleType: String
    /// Bytes of the file written and of the float32 file of the same graph.
    public var bytes: Int, floatBytes: Int
    /// Bytes of every weight in the file (quantized ones with their scales), and in float32.
    public var weightBytes: Int, floatWeightBytes: Int
    /// Wall time.
    public var seconds: Double
    /// The quantized layers.
    public var layers: [WeightOnlyLayer]
    /// Layers with a weight the op could block but left float, with the reason.
    public var floatLayers: [String: String]
    /// Outputs against the float32 model on the calibration data (nil without it).
    public var drift: OutputDrift?
    /// Top-1 agreement with the float32 model on the calibration data.
    public var agreement: Double?

    enum CodingKeys: String, CodingKey {
        case model, out, precision, format, opset, scheme, scales, bytes, seconds, layers, drift, agreement
        case blockSize = "block_size", scaleType = "scale_type", floatBytes = "float_bytes", weightBytes = "weight_bytes", floatWeightBytes = "float_weight_bytes"
        case floatLayers = "float_layers"
    }

    /// The per-layer report as Markdown (`--report-md`).
    public var markdown: String {
        var lines = [
            "# Weight-only quantization: \(model)", "",
            "\(precision), blocks of \(blockSize), \(scheme), \(scales) \(scaleType) scales, \(format) at opset \(opset). File \(bytes) bytes "
                + String(format: "(%.3f× the float32 file); weights %d bytes (%.3f× float32).", Double(bytes) / Double(max(1, floatBytes)), weightBytes, Double(weightBytes) / Double(max(1, floatWeightBytes))),
        ]
        if let drift {
            lines.append(String(format: "Outputs vs float32 on the calibration data: max |Δ| %.3g", drift.maxAbsDifference) + (agreement.map { String(format: ", top-1 agreement %.4f", $0) } ?? "") + ".")
        }
        lines += ["", "| node | layer | op | weight | type | block | scales | parameters | bytes | float bytes | weight SQNR dB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for l in layers {
            lines.append(
                "| \(l.node) | \(l.layer) | \(l.op) | \(l.weight) | \(l.type) | \(l.blockSize) | \(l.scaleType) | \(l.parameters) | \(l.bytes) | \(l.floatBytes) | \(l.weightSQNRdB.map { String(format: "%.1f", $0) } ?? "exact") |"
            )
        }
        for (node, reason) in floatLayers.sorted(by: { $0.key < $1.key }) { lines.append("\nKept float: \(node) (\(reason)).") }
        return lines.joined(separator: "\n") + "\n"
    }
}
