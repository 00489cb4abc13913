import ArgumentParser
import Evaluation
import Foundation
import ONNXIO
import Pruning
import TensorCore

/// `modelpress prune --structure channel`: channel (filter) pruning with physical removal
/// (docs/pruning.md, "Channel pruning").
extension PruneCommand {
    /// The checks of `--structure channel`.
    func validateChannel() throws {
        guard channelMultiple >= 1 else {
            throw ValidationError("--channel-multiple must be at least 1, not \(channelMultiple).")
        }
        guard sparsity != nil || sparsityPerLayer != nil else {
            throw ValidationError("--sparsity (or --sparsity-per-layer) is required for channel pruning (e.g. --sparsity 0.5).")
        }
        guard !fineTune.fineTunes, fineTune.schedule == .oneshot, !sparseStorage else {
            throw ValidationError(
                "--structure channel is one-shot and stores weights dense (the removed channels are gone): --fine-tune-data, --schedule agp and --sparse-storage do not apply.\nHINT: fine-tune the thinned file with modelpress train --student OUT.onnx --data TRAIN.h5."
            )
        }
        try asUsageError { try ONNXVersions.validate(opset: opset) }
        guard minParams == 0 else {
            throw ValidationError("--min-params applies to unstructured and 2:4 pruning; for --structure channel, --exclude the layers to keep.")
        }
        guard scope == nil || scope == .layer else {
            throw ValidationError("--structure channel prunes each layer (or tied group) by its own ranking; --scope \(scope?.rawValue ?? "") does not apply.")
        }
        do {
            try channelConfiguration().validate()
        } catch let error as ModelPressError {
            throw ValidationError("\(error)")
        }
    }

    /// The channel-pruning configuration the options describe; layers named in
    /// `--sparsity-per-layer` are requested explicitly (exit 2 when their channels cannot go).
    func channelConfiguration() throws -> ChannelPruningConfiguration {
        ChannelPruningConfiguration(
            sparsity: sparsity ?? 0, perLayer: try PruneLayerTargets.parse(sparsityPerLayer),
            criterion: criterion, exclude: exclude, multiple: channelMultiple)
    }

    /// Prunes the channels of `folded` (the graph after the export passes) and writes ONNX.
    func runChannel(_ folded: Graph) throws {
        let (thinned, report) = try ChannelPruning(try channelConfiguration()).prune(folded)
        var options = ONNXExportOptions()
        options.opset = opset
        options.compressionSummary = try channelSummary(report)
        let result = try ONNXExporter.write(thinned, to: out, options: options)
        if json {
            try printJSON(report)
        } else if !output.quiet {
            print(Self.channelTable(report))
            print("wrote \(out): \(result.bytes) bytes")
        }
    }

    /// The `modelpress.compression` metadata of a channel-pruned file, in one line of JSON.
    private func channelSummary(_ report: ChannelPruningReport) throws -> String {
        struct ChannelSummary: Encodable {
            let structure: String, criterion: String, sparsity: Double
            let parametersBefore: Int, parametersAfter: Int, macsBefore: Int, macsAfter: Int
        }
        struct Summary: Encodable { let pruning: ChannelSummary }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let summary = ChannelSummary(
            structure: "channel", criterion: report.criterion, sparsity: report.targetSparsity,
            parametersBefore: report.parametersBefore, parametersAfter: report.parametersAfter,
            macsBefore: report.macsBefore, macsAfter: report.macsAfter)
        return String(decoding: try encoder.encode(Summary(pruning: summary)), as: UTF8.self)
    }

    /// The per-layer table of a channel-pruning report.
    static func channelTable(_ report: ChannelPruningReport) -> String {
        let rows = report.layers.map { l in
            [
                l.layer, l.op, "\(l.inputsBefore)→\(l.inputsAfter)", "\(l.channelsBefore)→\(l.channelsAfter)",
                grouped(l.parametersBefore), grouped(l.parametersAfter), grouped(l.macsBefore), grouped(l.macsAfter), l.status,
            ]
        }
        let table = renderTable(
            header: ["layer", "op", "in", "out", "params", "params after", "MACs", "MACs after", "status"],
            rows: rows, numeric: [4, 5, 6, 7])
        let trimmed = table.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n")
        func pct(_ a: Int, _ b: Int) -> String { b == 0 ? "0.0" : String(format: "%.1f", 100 * (1 - Double(a) / Double(b))) }
        var lines = [
            trimmed, "",
            "parameters: \(grouped(report.parametersBefore)) → \(grouped(report.parametersAfter)) (−\(pct(report.parametersAfter, report.parametersBefore))%); "
                + "MACs per sample: \(grouped(report.macsBefore)) → \(grouped(report.macsAfter)) (−\(pct(report.macsAfter, report.macsBefore))%); criterion \(report.criterion)",
        ]
        for g in report.groups where g.nodes.count > 1 || g.skipped != nil {
            let names = g.nodes.joined(separator: " + ")
            lines.append(g.skipped.map { "left alone: \(names): \($0)" } ?? "tied group: \(names): \(g.channelsBefore) → \(g.channelsAfter) channels (one ranking, summed norms)")
        }
        return lines.joined(separator: "\n")
    }
}
