import Evaluation
import Foundation
import ModelIO
import ONNXIO
import Quantization
import TensorCore

/// `modelpress quantize --precision fp16 | fp16-weights`.
extension QuantizeCommand {
    /// Converts `graph` to float16 as the options say, writes the file and prints the outcome.
    func runHalfPrecision(_ graph: Graph, form: HalfPrecisionOptions.Form) throws {
        var options = HalfPrecisionOptions()
        options.form = form
        options.keepIOTypes = keepIOTypes
        options.exclude = Set(exclude)
        options.opset = opset ?? ONNXVersions.defaultOpset
        let calibrationData = try calibration.map { try DatasetFile(path: $0, xKey: xKey, yKey: nil) }
        let progress = ProgressReporter("check ranges", quiet: output.quiet || json)
        let summary = try HalfPrecisionConversion.run(
            graph, model: model.model, out: out, options: options, calibration: calibrationData, samples: samples, batchSize: batchSize,
            progress: progress.update)
        if let reportMd { try AtomicFile.write(Data(summary.markdown.utf8), to: reportMd) }
        if json {
            try printJSON(summary)
        } else if !output.quiet {
            print(halfPrecisionLines(summary))
        }
    }

    /// The layers kept float32 with their reasons, the drift and the summary line.
    func halfPrecisionLines(_ s: HalfPrecisionSummary) -> String {
        var lines = s.layers.filter { $0.precision != "fp16" && s.precision == "fp16" }.map { "kept float32: \($0.node) (\($0.reason ?? ""))" }
        let flushed = s.layers.reduce(0) { $0 + $1.flushedToZero }
        if flushed > 0 { lines.append("note: \(flushed) non-zero weight(s) are below float16's smallest value and become 0 (see --report-md)") }
        if let drift = s.drift {
            lines.append(
                String(format: "outputs vs float32 on %ld calibration samples: max |Δ| %.3g", s.calibrationSamples, drift.maxAbsDifference)
                    + (s.agreement.map { String(format: ", top-1 agreement %.4f", $0) } ?? ""))
        } else if s.precision == "fp16" {
            lines.append("note: no --calibration, so activation ranges were not checked against float16's")
        }
        let half = s.layers.filter { $0.precision == "fp16" }.count
        let what = s.precision == "fp16" ? "\(half) of \(s.layers.count) nodes in float16" : "float32 computation on float16 weights"
        lines.append(String(format: "wrote %@: %@, %@, %ld bytes (%.3f× float32) (%ld ms)", out, s.precision, what, s.bytes, s.sizeRatio, Int(s.seconds * 1000)))
        return lines.joined(separator: "\n")
    }
}
