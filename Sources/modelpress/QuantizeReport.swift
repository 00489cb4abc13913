import Foundation
import Quantization
import TensorCore

/// Per-layer quantization report of `modelpress quantize`: storage bytes, and the Markdown
/// form written by `--report-md`.
enum QuantizeReport {
    /// Bytes the quantized layer stores: int8 / int16 weights (1 / 2 bytes each), bias (4 each,
    /// int32 or float), and per weight channel one float32 scale and one zero point.
    static func bytes(of node: String, in graph: Graph) -> Int {
        guard let n = graph.nodes.first(where: { $0.name == node }), n.inputs.count >= 2,
              let w = graph.initializers[n.inputs[1]] else { return 0 }
        let q = graph.quantization[n.inputs[1]]
        let channels = q?.scales.count ?? 1, width = (q?.bits ?? 32) / 8
        let bias = n.inputs.count > 2 ? graph.initializers[n.inputs[2]]?.count ?? 0 : 0
        return width * w.count + 4 * bias + (4 + width) * channels
    }

    /// SQNR as text (∞ when the output is reproduced exactly).
    static func sqnr(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "∞" }

    /// The Markdown report: settings, the per-layer table, float layers and the budget search.
    static func markdown(_ r: QuantizeCommand.Result, budget: AccuracyBudgetResult?) -> String {
        var md = "# Quantization report: \(r.model)\n\n"
        md += "Output `\(r.out)` (\(r.format.uppercased()), opset \(r.opset), \(r.bytes) bytes); weights symmetric \(r.bits == 16 ? "int16" : "int8") \(r.weights), "
        md += "\(r.scheme) scales, activations \(r.activations) (\(r.dynamic ? "quantized at run time" : "\(r.method) calibration on \(r.calibrationSamples) samples")). "
        md += "Error: each layer's output in the quantized model vs the float model's on the calibration samples.\n\n"
        md += "| layer | bits | scheme | weight scales | in scale / zp | out scale / zp | bytes | SQNR (dB) | MSE |\n"
        md += "|---|---:|---|---|---|---|---:|---:|---:|\n"
        for l in r.layers {
            md += "| \(l.node) | \(l.bits) | \(l.scheme) | " + String(format: "%.3g … %.3g", l.weightScaleMin, l.weightScaleMax)
            md += " | " + (l.inputScale.map { String(format: "%.4g / %d", $0, l.inputZeroPoint ?? 0) } ?? "run time")
            md += " | " + (l.outputScale.map { String(format: "%.4g / %d", $0, l.outputZeroPoint ?? 0) } ?? "float")
            md += " | \(l.bytes) | \(sqnr(l.sqnrDB)) | " + String(format: "%.3g", l.mse) + " |\n"
        }
        if !r.floatLayers.isEmpty { md += "\nKept in float: " + r.floatLayers.map { "`\($0)`" }.joined(separator: ", ") + ".\n" }
        if !r.floatActivations.isEmpty { md += "\nActivations kept in float: " + r.floatActivations.map { "`\($0)`" }.joined(separator: ", ") + ".\n" }
        if let b = budget {
            md += "\n## Accuracy budget\n\n"
            md += String(format: "Float %.4f, all quantized %.4f, final %.4f: drop %.4f ", b.floatAccuracy, b.fullyQuantizedAccuracy, b.finalAccuracy, b.drop)
            md += b.met ? "(within budget).\n" : "(**budget not met**).\n"
            if !b.sensitivities.isEmpty {
                md += "\nSensitivity = accuracy with only that layer in float − accuracy with all layers quantized.\n\n"
                md += "| layer | accuracy with layer float | sensitivity | result |\n|---|---:|---:|---|\n"
                for s in b.sensitivities {
                    let step = b.fallback.first { $0.layer.node == s.node }
                    md += "| \(QuantizeBudget.label(s)) | " + String(format: "%.4f | %+.4f | ", s.accuracyWithLayerFloat, s.sensitivity)
                    md += (step.map { String(format: "float (accuracy after: %.4f)", $0.accuracyAfter) } ?? "int8") + " |\n"
                }
            }
        }
        return md
    }
}
