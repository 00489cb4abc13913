import Foundation

extension QuantizationSummary {
    /// SQNR as text (∞ when the output is reproduced exactly).
    public static func sqnr(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "∞" }

    /// The Markdown report (`--report-md`): settings, the per-layer table, float layers and the budget search.
    public func markdown(budget: AccuracyBudgetResult?) -> String {
        var md = "# Quantization report: \(model)\n\n"
        md += "Output `\(out)` (\(format.uppercased()), opset \(opset), \(bytes) bytes); weights symmetric \(bits == 16 ? "int16" : "int8") \(weights), "
        md += "\(scheme) scales, activations \(activations) (\(dynamic ? "quantized at run time" : "\(method) calibration on \(calibrationSamples) samples")). "
        md += "Error: each layer's output in the quantized model vs the float model's on the calibration samples.\n\n"
        md += "| layer | bits | scheme | weight scales | in scale / zp | out scale / zp | bytes | SQNR (dB) | MSE |\n"
        md += "|---|---:|---|---|---|---|---:|---:|---:|\n"
        for l in layers {
            md += "| \(l.node) | \(l.bits) | \(l.scheme) | " + String(format: "%.3g … %.3g", l.weightScaleMin, l.weightScaleMax)
            md += " | " + (l.inputScale.map { String(format: "%.4g / %d", $0, l.inputZeroPoint ?? 0) } ?? (l.activationType == "float" ? "float" : "run time"))
            md += " | " + (l.outputScale.map { String(format: "%.4g / %d", $0, l.outputZeroPoint ?? 0) } ?? "float")
            md += " | \(l.bytes) | \(Self.sqnr(l.sqnrDB)) | " + String(format: "%.3g", l.mse) + " |\n"
        }
        if !floatLayers.isEmpty { md += "\nKept in float: " + floatLayers.map { "`\($0)`" }.joined(separator: ", ") + ".\n" }
        if !floatActivations.isEmpty { md += "\nActivations kept in float: " + floatActivations.map { "`\($0)`" }.joined(separator: ", ") + ".\n" }
        for (op, nodes) in (quantizedOps ?? [:]).sorted(by: { $0.key < $1.key }) {
            md += "\n\(op) between int8 Q/DQ pairs (`--quantize-ops`): " + nodes.map { "`\($0)`" }.joined(separator: ", ") + ".\n"
        }
        if let b = budget {
            md += "\n## Accuracy budget\n\n"
            md += String(format: "Float %.4f, all quantized %.4f, final %.4f: drop %.4f ", b.floatAccuracy, b.fullyQuantizedAccuracy, b.finalAccuracy, b.drop)
            md += b.met ? "(within budget).\n" : "(**budget not met**).\n"
            if !b.sensitivities.isEmpty {
                md += "\nSensitivity = accuracy with only that layer in float − accuracy with all layers quantized.\n\n"
                md += "| layer | accuracy with layer float | sensitivity | result |\n|---|---:|---:|---|\n"
                for s in b.sensitivities {
                    md += "| \(s.label) | " + String(format: "%.4f | %+.4f | ", s.accuracyWithLayerFloat, s.sensitivity) + b.outcome(of: s) + " |\n"
                }
            }
        }
        return md
    }
}
