import Evaluation
import Foundation

/// The outcome of one float16 conversion (the `--json` object of `quantize --precision fp16`).
public struct HalfPrecisionSummary: Encodable, Sendable {
    /// Model and output paths, the form written (`fp16` or `fp16-weights`), and the opset.
    public var model: String, out: String, precision: String, opset: Int
    /// Whether graph inputs and outputs stayed float32.
    public var keepIOTypes: Bool
    /// Calibration samples whose ranges were checked (0: none given, ranges not checked).
    public var calibrationSamples: Int
    /// Bytes of the file written, and of the float32 file of the same graph.
    public var bytes: Int, floatBytes: Int
    /// Wall time.
    public var seconds: Double
    /// Every node: its precision, why it stays float32, its weights.
    public var layers: [HalfPrecisionLayer]
    /// Outputs against the float32 model on the calibration data (nil without it).
    public var drift: OutputDrift?
    /// Top-1 agreement with the float32 model on the calibration data (nil: no data, or the
    /// output is not one row of scores per sample).
    public var agreement: Double?

    enum CodingKeys: String, CodingKey {
        case model, out, precision, opset, bytes, seconds, layers, drift, agreement
        case keepIOTypes = "keep_io_types", calibrationSamples = "calibration_samples", floatBytes = "float_bytes"
        case float32Layers = "float32_layers", sizeRatio = "size_ratio"
    }

    /// Layers that compute in float32, by node name.
    public var float32Layers: [String] { layers.filter { $0.precision != "fp16" }.map(\.node) }

    /// Bytes written over the float32 file's.
    public var sizeRatio: Double { floatBytes == 0 ? 0 : Double(bytes) / Double(floatBytes) }

    /// Encodes the stored fields and the derived ones.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(out, forKey: .out)
        try c.encode(precision, forKey: .precision)
        try c.encode(opset, forKey: .opset)
        try c.encode(keepIOTypes, forKey: .keepIOTypes)
        try c.encode(calibrationSamples, forKey: .calibrationSamples)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(floatBytes, forKey: .floatBytes)
        try c.encode(sizeRatio, forKey: .sizeRatio)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(layers, forKey: .layers)
        try c.encode(float32Layers, forKey: .float32Layers)
        try c.encodeIfPresent(drift, forKey: .drift)
        try c.encodeIfPresent(agreement, forKey: .agreement)
    }

    /// The per-layer report as Markdown (`--report-md`).
    public var markdown: String {
        var lines = [
            "# Float16 conversion: \(model)", "",
            "Precision `\(precision)`, opset \(opset), inputs and outputs \(keepIOTypes ? "float32" : "float16"). "
                + "File \(bytes) bytes, \(String(format: "%.3f", sizeRatio))× the float32 file (\(floatBytes) bytes).",
        ]
        if let drift {
            lines.append(
                "On \(calibrationSamples) calibration samples: outputs max |Δ| \(String(format: "%.3g", drift.maxAbsDifference)) vs float32"
                    + (agreement.map { String(format: ", top-1 agreement %.4f", $0) } ?? "") + ".")
        } else {
            lines.append("No calibration data: activation ranges were not checked against float16's.")
        }
        lines += ["", "| node | layer | op | precision | weights | bytes | max \\|w\\| | flushed to 0 | max \\|out\\| | why float32 |", "|---|---|---|---|---|---|---|---|---|---|"]
        for l in layers {
            let out = l.maxAbsOutput.map { String(format: "%.4g", $0) } ?? "–"
            lines.append(
                "| \(l.node) | \(l.layer) | \(l.op) | \(l.precision) | \(l.parameters) | \(l.bytes) | \(String(format: "%.4g", l.maxAbsWeight)) | \(l.flushedToZero) | \(out) | \(l.reason ?? "") |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
