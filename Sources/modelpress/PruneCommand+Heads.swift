import ArgumentParser
import Foundation
import ONNXIO
import Pruning
import TensorCore

/// `modelpress prune --structure heads`: attention-head pruning with physical removal
/// (docs/pruning.md, "Attention heads").
extension PruneCommand {
    /// The checks of `--structure heads`.
    func validateHeads() throws {
        guard let sparsity, (0..<1).contains(sparsity) else {
            throw ValidationError("--sparsity in [0, 1) is required for head pruning: the fraction of each attention block's heads to remove (e.g. 0.5).")
        }
        guard sparsityPerLayer == nil, !fineTune.fineTunes, fineTune.schedule == .oneshot, !sparseStorage, minParams == 0, scope == nil || scope == .layer,
            criterion == .l1, channelMultiple == 1
        else {
            throw ValidationError(
                "--structure heads takes --sparsity and --exclude (one-shot, L1 head norms, weights stored dense).\nHINT: fine-tune the thinned file with modelpress train --student OUT.onnx --data TRAIN.h5.")
        }
        try asUsageError { try ONNXVersions.validate(opset: opset) }
    }

    /// Removes attention heads from `folded` (the graph after the export passes) and writes ONNX.
    func runHeads(_ folded: Graph) throws {
        let (thinned, report) = try HeadPruning(sparsity: sparsity ?? 0, exclude: Set(exclude)).prune(folded)
        var options = ONNXExportOptions()
        options.opset = opset
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        struct Summary: Encodable { let pruning: [String: String] }
        let summary = Summary(pruning: [
            "structure": "heads", "sparsity": String(report.targetSparsity),
            "heads": report.blocks.map { "\($0.kept.count)/\($0.headsBefore)" }.joined(separator: ","),
        ])
        options.compressionSummary = String(decoding: try encoder.encode(summary), as: UTF8.self)
        let result = try ONNXExporter.write(thinned, to: out, options: options)
        if json {
            try printJSON(report)
        } else if !output.quiet {
            for block in report.blocks {
                print("\(block.layer): \(block.kept.count) of \(block.headsBefore) heads kept (\(block.kept.map(String.init).joined(separator: ", ")))")
            }
            print("parameters \(report.parametersBefore) → \(report.parametersAfter), MACs \(report.macsBefore) → \(report.macsAfter)")
            print("wrote \(out): \(result.bytes) bytes")
        }
    }
}
