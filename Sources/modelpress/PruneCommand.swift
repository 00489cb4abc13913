import ArgumentParser
import Foundation
import ONNXIO
import Passes
import Pruning
import TensorCore

/// `modelpress prune`: one-shot magnitude pruning of Dense/Conv kernels, written as ONNX
/// (see docs/pruning.md).
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Zero the smallest-magnitude Dense/Conv weights (one-shot) and write ONNX.",
        discussion: """
        The export passes (BatchNorm folding, channels-last flatten folding) run first, so the \
        weights ranked and counted are exactly the ones the ONNX file holds. --scope layer zeroes \
        round(S·n) weights of every kernel; --scope global zeroes round(S·N) of all N prunable \
        weights under one magnitude threshold. --structure 2:4 keeps the 2 largest |w| in every \
        group of 4 consecutive inputs (Dense rows, Conv input channels); kernels whose input \
        dimension is not a multiple of 4 are left dense. Biases, BatchNorm parameters and \
        grouped/depthwise convs are never pruned. Weights are stored dense.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .shortAndLong, help: "Output ONNX file (written atomically).")
    var out: String

    @Option(help: "Fraction of weights to remove, in [0, 1) (required for unstructured; 2:4 is 0.5).")
    var sparsity: Double?

    @Option(help: "Ranking scope: layer (each kernel exactly) or global (one threshold).")
    var scope = "layer"

    @Option(help: "What is removed: unstructured, 2:4 or channel (filters deleted, see docs/pruning.md).")
    var structure = "unstructured"

    @Option(parsing: .upToNextOption, help: "Layers (or IR nodes) to leave dense.")
    var exclude: [String] = []

    @Option(help: "Leave kernels with fewer weights than N dense.")
    var minParams = 0

    @Option(help: "ONNX opset of the default domain (13–21).")
    var opset = 13

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: "Channel score for --structure channel: l1 or l2 filter norm.")
    var criterion = "l1"

    @Option(help: "For --structure channel: round kept channel counts up to a multiple of N (8 suits SIMD runtimes).")
    var channelMultiple = 1

    func validate() throws {
        if structure == "channel" { return try validateChannel() }
        guard criterion == "l1", channelMultiple == 1 else { throw ValidationError("--criterion and --channel-multiple apply to --structure channel.") }
        guard PruningScope(rawValue: scope) != nil else {
            throw ValidationError("--scope must be layer or global, not '\(scope)'.")
        }
        guard let structure = PruningStructure(rawValue: structure) else {
            throw ValidationError("--structure must be unstructured or 2:4, not '\(structure)'.")
        }
        guard ONNXVersions.supportedOpsets.contains(opset) else {
            throw ValidationError("--opset \(opset) is not supported; choose 13 to 21.")
        }
        if structure == .unstructured, sparsity == nil {
            throw ValidationError("--sparsity is required for unstructured pruning (e.g. --sparsity 0.8).")
        }
        do {
            try configuration().validate()
        } catch let error as ModelPressError {
            throw ValidationError("\(error)")
        }
    }

    /// The pruning configuration the options describe.
    func configuration() -> PruningConfiguration {
        let structure = PruningStructure(rawValue: structure) ?? .unstructured
        return PruningConfiguration(sparsity: sparsity ?? (structure == .twoOfFour ? 0.5 : 0),
                                    scope: PruningScope(rawValue: scope) ?? .layer, structure: structure,
                                    exclude: exclude, minParameters: minParams)
    }

    func run() throws {
        let loaded = try model.load()
        guard loaded.quantization.isEmpty else {
            throw ModelPressError.invalidArgument("\(model.model): the model is quantized; its weights cannot be pruned.\nHINT: prune the float model, then quantize the result.")
        }
        let (folded, _) = try runPasses(exportPasses, on: loaded)
        if structure == "channel" { return try runChannel(folded) }
        let (pruned, report) = try MagnitudePruning(configuration()).prune(folded)
        var options = ONNXExportOptions()
        options.opset = opset
        options.producerVersion = ModelPressVersion.string
        options.compressionSummary = try compressionSummary(report)
        let result = try ONNXExporter.write(pruned, to: out, options: options)
        if json {
            try printJSON(report)
        } else if !output.quiet {
            print(PruneCommand.table(report))
            for warning in report.warnings { print("warning: \(warning)") }
            print("wrote \(out): \(result.data.count) bytes")
        }
    }

    /// The `modelpress.compression` metadata: what was pruned, in one line of JSON.
    private func compressionSummary(_ report: PruningReport) throws -> String {
        struct PruningSummary: Encodable {
            let structure: String, scope: String, sparsity: Double, nonzeros: Int, parameters: Int
        }
        struct Summary: Encodable {
            let pruning: PruningSummary
        }
        let summary = Summary(pruning: PruningSummary(structure: report.structure, scope: report.scope, sparsity: report.targetSparsity,
                                               nonzeros: report.prunedNonzeros, parameters: report.prunedParameters))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(summary), as: UTF8.self)
    }

    /// The per-layer table printed without `--json`.
    static func table(_ report: PruningReport) -> String {
        let rows = report.layers.map { l in
            [l.layer, l.op, l.shape.map(String.init).joined(separator: "×"), grouped(l.parameters), grouped(l.nonzeros),
             String(format: "%.2f%%", l.sparsity * 100), l.skipped ?? "pruned"]
        }
        let total = report.prunedParameters
        let sparsity = total == 0 ? 0 : 100 * (1 - Double(report.prunedNonzeros) / Double(total))
        let table = renderTable(header: ["layer", "op", "shape", "params", "nonzeros", "sparsity", "status"], rows: rows, numeric: [3, 4, 5])
        let trimmed = table.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n")
        return trimmed
            + "\n\npruned kernels: \(grouped(report.prunedNonzeros)) of \(grouped(total)) weights nonzero (\(String(format: "%.2f", sparsity))% sparse), \(report.structure), scope \(report.scope)"
    }
}
