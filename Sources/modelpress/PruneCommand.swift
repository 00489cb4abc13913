import ArgumentParser
import Evaluation
import Foundation
import ONNXIO
import Passes
import Pruning
import TensorCore

/// `modelpress prune`: magnitude pruning of Dense/Conv kernels, one-shot or gradual (AGP) with
/// fine-tuning, written as ONNX (see docs/pruning.md).
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Zero the smallest-magnitude Dense/Conv weights (one-shot or gradual with fine-tuning) and write ONNX.",
        discussion: """
            The export passes (BatchNorm folding, channels-last flatten folding) run first, so the \
            weights ranked and counted are exactly the ones the ONNX file holds. --scope layer zeroes \
            round(S·n) weights of every kernel; --scope global zeroes round(S·N) of all N prunable \
            weights under one magnitude threshold. --structure 2:4 keeps the 2 largest |w| in every \
            group of 4 consecutive inputs (Dense rows, Conv input channels); kernels whose input \
            dimension is not a multiple of 4 are left dense. --scope lamp (the default for unstructured and block \
            pruning, docs/defaults.md) ranks all kernels together on LAMP scores, which do not depend on a \
            layer's scale and never empty a layer. --structure block:RxC removes whole blocks \
            of R consecutive output channels × C consecutive inputs (at one kernel position), the \
            fraction --sparsity of the blocks with the smallest mean |w|. Biases, BatchNorm parameters and \
            grouped/depthwise convs are never pruned. With --fine-tune-data the model is fine-tuned after \
            pruning with the masks held fixed (--schedule agp: K steps of the cubic ramp); the unfolded \
            model is pruned and fine-tuned with BatchNorm frozen, then folded (zeros stay zero); 2:4 \
            and blocks of several inputs fine-tune the folded graph so their groups lie in the shipped kernels. \
            Weights are stored dense unless --sparse-storage.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .shortAndLong, help: "Output ONNX file (written atomically).")
    var out: String

    @Option(help: "Fraction of weights to remove, in [0, 1) (unstructured needs it or --sparsity-per-layer; 2:4 is 0.5).")
    var sparsity: Double?

    @Option(help: "Per-layer targets NAME=S,… (layer or node names); other layers get --sparsity, or stay dense without it.")
    var sparsityPerLayer: String?

    @Flag(help: "Store pruned kernels as ONNX sparse_initializers (COO, int64 indices) where that is smaller.")
    var sparseStorage = false

    @OptionGroup(title: "Fine-tuning") var fineTune: PruneFineTuneOptions

    @Option(
        help:
            "Ranking scope: layer (each kernel exactly), global (one magnitude threshold) or lamp (one threshold on layer-normalized LAMP scores). Default: lamp for unstructured and block pruning (docs/defaults.md), layer for 2:4."
    )
    var scope: PruningScope?

    @Option(help: "What is removed: unstructured, 2:4, block:RxC (e.g. block:4x1), channel (filters deleted), heads (attention heads deleted); see docs/pruning.md.")
    var structure = PruningGranularity.unstructured

    @Option(parsing: .upToNextOption, help: "Layers (or IR nodes) to leave dense.")
    var exclude: [String] = []

    @Option(help: "Leave kernels with fewer weights than N dense.")
    var minParams = 0

    @Option(help: "ONNX opset of the default domain (\(ONNXVersions.supportedOpsetText)).")
    var opset = ONNXVersions.defaultOpset

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: "Channel score for --structure channel: l1 or l2 filter norm.")
    var criterion = ChannelCriterion.l1

    @Option(help: "For --structure channel: round kept channel counts up to a multiple of N (8 suits SIMD runtimes).")
    var channelMultiple = 1

    func validate() throws {
        guard let weightStructure = structure.weightStructure else { return try structure == .heads ? validateHeads() : validateChannel() }
        guard criterion == .l1, channelMultiple == 1 else { throw ValidationError("--criterion and --channel-multiple apply to --structure channel.") }
        try asUsageError { try ONNXVersions.validate(opset: opset) }
        if weightStructure != .twoOfFour, sparsity == nil, sparsityPerLayer == nil {
            throw ValidationError("--sparsity (or --sparsity-per-layer) is required for \(structure.name) pruning (e.g. --sparsity 0.8).")
        }
        try asUsageError { try configuration().validate() }
        if fineTune.schedule == .agp, weightStructure == .twoOfFour {
            throw ValidationError("--schedule agp ramps the sparsity; --structure 2:4 is fixed at 50%.\nHINT: use --schedule oneshot with --fine-tune-data to fine-tune once.")
        }
    }

    /// The pruning configuration the options describe.
    func configuration() throws -> PruningConfiguration {
        let structure = self.structure.weightStructure ?? .unstructured
        var c = PruningConfiguration(
            sparsity: sparsity ?? (structure == .twoOfFour ? 0.5 : 0),
            scope: scope ?? .recommended(for: structure), structure: structure,
            exclude: exclude, minParameters: minParams)
        c.perLayer = try PruneLayerTargets.parse(sparsityPerLayer)
        return c
    }

    func run() throws {
        let loaded = try model.load(work: .train)
        guard loaded.quantization.isEmpty else {
            throw ModelPressError.invalidArgument("\(model.model): the model is quantized; its weights cannot be pruned.\nHINT: prune the float model, then quantize the result.")
        }
        if structure == .channel { return try runChannel(try runPasses(exportPasses, on: loaded).0) }
        if structure == .heads { return try runHeads(try runPasses(exportPasses, on: loaded).0) }
        var pruned: Graph, report: PruningReport, steps: [GradualPruning.Step] = []
        if fineTune.fineTunes {
            (pruned, report, steps) = try fineTune.run(loaded, modelPath: model.model, configuration: try configuration(), quiet: output.quiet || json)
        } else {
            let (folded, _) = try runPasses(exportPasses, on: loaded)
            (pruned, report) = try MagnitudePruning(try configuration()).prune(folded)
        }
        var options = ONNXExportOptions()
        options.opset = opset
        options.sparseStorage = sparseStorage
        options.sparseCandidates = PruneCommand.prunedWeights(pruned, report)
        options.compressionSummary = try compressionSummary(report)
        let result = try ONNXExporter.write(pruned, to: out, options: options)
        try PruneOutput(
            report: try PruningStorage.annotate(report, graph: result.graph, sparse: Set(result.sparseInitializers)),
            steps: steps, schedule: fineTune.fineTunes ? fineTune.schedule.rawValue : "oneshot", file: out, fileData: result.data
        )
        .print(json: json, quiet: output.quiet)
    }

    /// Initializer names of the kernels `report` marks as pruned (the only ones `--sparse-storage` may store sparse).
    static func prunedWeights(_ graph: Graph, _ report: PruningReport) -> Set<String> {
        Set(report.layers.filter { $0.skipped == nil && graph.initializers[$0.weight] != nil }.map(\.weight))
    }

    /// The `modelpress.compression` metadata: what was pruned, in one line of JSON.
    private func compressionSummary(_ report: PruningReport) throws -> String {
        struct PruningSummary: Encodable {
            let structure: String, scope: String, sparsity: Double, nonzeros: Int, parameters: Int
            let schedule: String, steps: Int?, epochsPerStep: Int?, distilled: Bool?, sparseStorage: Bool
        }
        struct Summary: Encodable {
            let pruning: PruningSummary
        }
        let summary = Summary(
            pruning: PruningSummary(
                structure: report.structure, scope: report.scope, sparsity: report.targetSparsity,
                nonzeros: report.prunedNonzeros, parameters: report.prunedParameters,
                schedule: fineTune.fineTunes ? fineTune.schedule.rawValue : "oneshot",
                steps: fineTune.fineTunes ? (fineTune.schedule == .agp ? fineTune.steps : 1) : nil,
                epochsPerStep: fineTune.fineTunes ? fineTune.epochsPerStep : nil,
                distilled: fineTune.fineTunes ? fineTune.distillFromOriginal : nil, sparseStorage: sparseStorage))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(summary), as: UTF8.self)
    }

    /// The per-layer table printed without `--json`.
    static func table(_ report: PruningReport) -> String {
        let rows = report.layers.map { l in
            [
                l.layer, l.op, l.shape.map(String.init).joined(separator: "×"), grouped(l.parameters), grouped(l.nonzeros),
                String(format: "%.2f%%", l.sparsity * 100), l.storage.map { "\(grouped($0.bytes)) \($0.format)" } ?? "",
                l.storage.map { grouped($0.gzipBytes) } ?? "", l.skipped ?? "pruned",
            ]
        }
        let total = report.prunedParameters
        let sparsity = total == 0 ? 0 : 100 * (1 - Double(report.prunedNonzeros) / Double(total))
        let table = renderTable(header: ["layer", "op", "shape", "params", "nonzeros", "sparsity", "bytes", "gzip", "status"], rows: rows, numeric: [3, 4, 5, 6, 7])
        let trimmed = table.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n")
        var text =
            trimmed
            + "\n\npruned kernels: \(grouped(report.prunedNonzeros)) of \(grouped(total)) weights nonzero (\(String(format: "%.2f", sparsity))% sparse), \(report.structure), scope \(report.scope)"
        let blocks = report.layers.compactMap(\.blockSparse)
        if !blocks.isEmpty {
            text +=
                "\nblock-sparse (BSR, int32 indices): \(grouped(blocks.reduce(0) { $0 + $1.bytes })) bytes, gzip \(grouped(blocks.reduce(0) { $0 + $1.gzipBytes })), dense \(grouped(blocks.reduce(0) { $0 + $1.denseBytes }))"
        }
        return text
    }
}
