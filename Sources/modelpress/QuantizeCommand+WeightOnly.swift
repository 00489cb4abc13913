import Evaluation
import Foundation
import ModelIO
import ONNXIO
import Quantization
import TensorCore

/// `modelpress quantize --precision int4-weights | int8-weights`.
extension QuantizeCommand {
    /// Quantizes the Dense and Embedding weights of `graph` in blocks, writes the file and prints the outcome.
    func runWeightOnly(_ graph: Graph, bits: Int) throws {
        var options = WeightOnlyOptions()
        options.bits = bits
        options.blockSize = blockSize
        options.scheme = weightScheme
        options.scales = blockScales
        options.scaleType = scaleType ?? (allowContribOps ? .float32 : .float16)
        options.exclude = Set(exclude)
        options.opset = opset ?? ONNXVersions.int16QuantizationOpset
        options.allowContribOps = allowContribOps
        options.activationAware = activationAware
        let calibrationData = try calibration.map { try DatasetFile(path: $0, xKey: xKey, yKey: nil) }
        let summary = try WeightOnlyConversion.run(graph, model: model.model, out: out, options: options, calibration: calibrationData, samples: samples, batchSize: batchSize)
        if let reportMd { try AtomicFile.write(Data(summary.markdown.utf8), to: reportMd) }
        if json {
            try printJSON(summary)
        } else if !output.quiet {
            print(weightOnlyLines(summary))
        }
    }

    /// The layer table, the drift and the summary line.
    func weightOnlyLines(_ s: WeightOnlySummary) -> String {
        let rows = s.layers.map { l in
            [l.node, l.type, "\(l.blockSize)", l.scaleType, "\(l.parameters)", "\(l.bytes)", "\(l.floatBytes)", l.weightSQNRdB.map { String(format: "%.1f", $0) } ?? "exact"]
        }
        var lines = [renderTable(header: ["layer", "type", "block", "scales", "weights", "bytes", "float bytes", "SQNR dB"], rows: rows, numeric: [2, 4, 5, 6, 7])]
        lines += s.floatLayers.sorted(by: { $0.key < $1.key }).map { "kept float: \($0.key) (\($0.value))" }
        if let drift = s.drift {
            lines.append(String(format: "outputs vs float32 on the calibration data: max |Δ| %.3g", drift.maxAbsDifference) + (s.agreement.map { String(format: ", top-1 agreement %.4f", $0) } ?? ""))
        }
        lines.append(
            String(
                format: "wrote %@: %@ (%@), %ld layers, weights %ld bytes (%.3f× float32), file %ld bytes (%ld ms)", out, s.precision, s.format, s.layers.count,
                s.weightBytes, Double(s.weightBytes) / Double(max(1, s.floatWeightBytes)), s.bytes, Int(s.seconds * 1000)))
        return lines.joined(separator: "\n")
    }
}
