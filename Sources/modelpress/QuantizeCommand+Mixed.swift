import ArgumentParser
import Evaluation
import Foundation
import ModelIO
import ONNXIO
import Quantization
import TensorCore

/// `modelpress quantize --precision-per-layer …` and `--precision mixed --max-drop | --max-bytes`.
extension QuantizeCommand {
    /// The options a mixed-precision run accepts.
    func validateMixed() throws {
        let mixed = precision == .mixed || precisionPerLayer != nil
        guard mixed else {
            guard maxBytes == nil, svg == nil else { throw ValidationError("--max-bytes and --svg are for --precision mixed.") }
            return
        }
        guard !dynamic, bits == 8, format == .qdq else {
            throw ValidationError("a precision plan is written as int8 QDQ with float16 parts: leave out --dynamic, --bits 16 and --format.")
        }
        guard calibration != nil else { throw ValidationError("a precision plan needs --calibration (its int8 layers are calibrated).") }
        if let precisionPerLayer {
            guard precision == .int8 || precision == .fp16 else {
                throw ValidationError("--precision-per-layer \(precisionPerLayer): the layers it does not name take --precision, which must be int8 or fp16 here.")
            }
            guard maxDrop == nil, maxBytes == nil else { throw ValidationError("--precision-per-layer gives the plan; --max-drop / --max-bytes search for one (with --precision mixed).") }
        } else {
            guard (maxDrop == nil) != (maxBytes == nil) else { throw ValidationError("--precision mixed needs one of --max-drop or --max-bytes.") }
            guard data != nil else { throw ValidationError("--precision mixed measures plans on a labelled test set: give --data.") }
            if let maxBytes, maxBytes < 1 { throw ValidationError("--max-bytes must be at least 1.") }
        }
    }

    /// Builds or searches the plan, writes the file and reports.
    func runMixed(_ graph: Graph) throws {
        let goal: MixedPrecisionRequest.Goal
        if let precisionPerLayer {
            goal = .explicit(precisionPerLayer, rest: precision == .fp16 ? .fp16 : .int8)
        } else if let maxDrop {
            goal = .budget(maxDrop: maxDrop)
        } else {
            goal = .size(maxBytes: maxBytes ?? 0)
        }
        var r = MixedPrecisionRequest(goal: goal)
        r.options = request.options
        // int16 layers need 16-bit QuantizeLinear / DequantizeLinear: opset 21.
        r.halfPrecision.opset = opset ?? ((precisionPerLayer ?? "").contains("=int16") ? ONNXVersions.int16QuantizationOpset : ONNXVersions.defaultOpset)
        r.halfPrecision.keepIOTypes = keepIOTypes
        r.samples = samples
        r.batchSize = batchSize
        let calibrationData = try DatasetFile(path: calibration ?? "", xKey: xKey, yKey: nil)
        let test = try data.map { try DatasetFile(path: $0, xKey: xKey, yKey: yKey, requireLabels: true) }
        let progress = ProgressReporter("calibrate", quiet: output.quiet || json)
        let summary = try MixedPrecisionConversion.run(
            graph, model: model.model, out: out, request: r, calibration: calibrationData, test: test, testName: data, progress: progress.update)
        if let reportMd { try AtomicFile.write(Data(summary.markdown.utf8), to: reportMd) }
        if let svg { try AtomicFile.write(Data(summary.svg.utf8), to: svg) }
        if json {
            try printJSON(summary)
        } else if !output.quiet {
            print(mixedLines(summary))
        }
        if !summary.met {
            throw GateFailure(
                message: "quantize: \(summary.goal) not met: the best plan found (written to \(out)) has top-1 "
                    + String(format: "%.4f with %d weight bytes.\nHINT: relax the goal; every Conv / Dense layer was tried at int8, fp16 and fp32.", summary.accuracy ?? 0, summary.weightBytes))
        }
    }

    /// The plan, the plans tried and the summary line.
    func mixedLines(_ s: MixedPrecisionSummary) -> String {
        let rows = s.layers.map { [$0.node, $0.precision.rawValue, "\($0.bytes)", "\($0.floatBytes)"] }
        var lines = [renderTable(header: ["layer", "precision", "bytes", "float bytes"], rows: rows, numeric: [2, 3])]
        if s.trials.count > 1 {
            lines.append("plans tried: " + s.trials.map { String(format: "%@ %.4f/%d B", $0.step, $0.accuracy, $0.bytes) }.joined(separator: "; "))
        }
        let accuracy = s.accuracy.map { String(format: ", top-1 %.4f (float32 %.4f)", $0, s.floatAccuracy ?? .nan) } ?? ""
        lines.append(
            String(
                format: "wrote %@: precision plan (%@)%@, weights %ld bytes (%.3f× float32), file %ld bytes (%ld ms)", out, s.goal, accuracy, s.weightBytes,
                Double(s.weightBytes) / Double(max(1, s.floatWeightBytes)), s.bytes, Int(s.seconds * 1000)))
        return lines.joined(separator: "\n")
    }
}
