import Evaluation
import Foundation
import Quantization

/// The terminal output of `modelpress quantize`.
extension QuantizeCommand {
    /// Static runs: the layer table, the layers kept float, the budget search and the summary line.
    func staticLines(_ outcome: QuantizationOutcome) -> String {
        let s = outcome.summary
        let rows = s.layers.map { r -> [String] in
            [
                r.node, "\(r.channels)", String(format: "%.3g…%.3g", r.weightScaleMin, r.weightScaleMax),
                r.inputScale.map { String(format: "%.4g/%d", $0, r.inputZeroPoint ?? 0) } ?? "float",
                r.outputScale.map { String(format: "%.4g/%d", $0, r.outputZeroPoint ?? 0) } ?? "float", r.foldedActivation ?? "", "\(r.bytes)",
                QuantizationSummary.sqnr(r.sqnrDB), String(format: "%.3g", r.mse),
            ]
        }
        var lines = [
            renderTable(
                header: ["layer", "channels", "weight scales", "in scale/zp", "out scale/zp", "folded", "bytes", "SQNR dB", "MSE"],
                rows: rows, numeric: [1, 6, 7, 8])
        ]
        lines += outcome.excluded.map { "kept float: \($0) (--exclude)" }
        let equalized = s.layers.compactMap(\.equalizationScale)
        if let largest = equalized.max() {
            lines.append(String(format: "cross-layer equalization: %d layer(s), largest factor %.3g", equalized.count, largest))
        }
        let smoothed = s.layers.compactMap(\.smoothQuantScale)
        if let largest = smoothed.max() {
            lines.append(String(format: "smoothquant: %d layer(s), largest factor %.3g", smoothed.count, largest))
        }
        lines += (s.smoothQuantSkipped ?? [:]).sorted { $0.key < $1.key }.map { "smoothquant skipped \($0.key): \($0.value)" }
        lines += (s.quantizedOps ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) in int8 (--quantize-ops): \($0.value.count) node(s)" }
        let corrected = s.layers.compactMap(\.biasShift)
        if let largest = corrected.max() {
            lines.append(String(format: "bias correction: %d layer(s), largest |shift| %.3g", corrected.count, largest))
        }
        if let budget = outcome.budget, let maxDrop { lines += budget.lines(maxDrop: maxDrop) }
        let kind = "\(s.weightBits == 4 ? "int4" : s.bits == 16 ? "int16" : "int8")/\(s.activations)\(s.scheme == QuantizationScheme.pow2.rawValue ? " pow2" : "")"
        lines.append(
            "wrote \(out): \(kind) \(format == .qdq ? "QDQ" : "QOperator"), \(s.layers.count) layers quantized, \(s.method) calibration on \(s.calibrationSamples) samples, \(s.bytes) bytes (\(Int(s.seconds * 1000)) ms)")
        return lines.joined(separator: "\n")
    }

    /// Dynamic runs: the layer table, the layers kept float and the summary line.
    func dynamicLines(_ outcome: QuantizationOutcome) -> String {
        let s = outcome.summary
        let rows = s.layers.map { r -> [String] in
            [r.node, "\(r.channels)", String(format: "%.3g…%.3g", r.weightScaleMin, r.weightScaleMax), r.activationType, "\(r.bytes)"]
        }
        var lines = [renderTable(header: ["layer", "channels", "weight scales", "activations", "bytes"], rows: rows, numeric: [1, 4])]
        lines += outcome.excluded.map { "kept float: \($0) (--exclude)" }
        let runTime = s.layers.filter { $0.activationType != "float" }.count
        let floatCompute = s.layers.count - runTime
        lines.append(
            "wrote \(out): dynamic int8, \(runTime) layer(s) with run-time activation quantization (MatMulInteger / ConvInteger)"
                + (floatCompute > 0 ? ", \(floatCompute) float on int8 weights" : "") + ", \(s.bytes) bytes (\(Int(s.seconds * 1000)) ms)")
        return lines.joined(separator: "\n")
    }
}
