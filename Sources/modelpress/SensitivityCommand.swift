import ArgumentParser
import Foundation
import Pruning
import TensorCore

/// `modelpress sensitivity`: prunes each prunable layer alone at each sparsity level (one-shot,
/// no fine-tuning) and measures test accuracy; table, JSON, Markdown, SVG chart, and a
/// per-layer sparsity suggestion under an accuracy budget (docs/pruning.md, "Sensitivity").
struct SensitivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity",
        abstract: "Accuracy vs sparsity of each layer pruned alone; suggests per-layer sparsities under --max-drop.",
        discussion: """
            The export passes (BatchNorm folding, channels-last flatten folding) run first, as in \
            prune. Each layer (for --structure channel: each group of layers tied by a residual Add) \
            is pruned alone at every level, one-shot, and evaluated on --data with the engine. \
            --max-drop X suggests for each layer the highest level such that it and every lower \
            level lose at most X (absolute top-1, 0.01 = 1 point): a per-layer-alone estimate — \
            pruning several layers at once loses more than the sum suggests, so verify the combination.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Comma-separated sparsity levels in (0, 1) (default 0.1,…,0.9,0.95; 2:4 is always 0.5).")
    var sparsities: String?

    @Option(help: "What is removed.")
    var structure = PruningGranularity.unstructured

    @Option(help: "Channel score for --structure channel: l1 or l2 filter norm.")
    var criterion = ChannelCriterion.l1

    @Option(help: "For --structure channel: round kept channel counts up to a multiple of N.")
    var channelMultiple = 1

    @Option(parsing: .upToNextOption, help: "Layers (or IR nodes) to leave out of the analysis.")
    var exclude: [String] = []

    @Option(parsing: .upToNextOption, help: "Analyse only these layers (each must be prunable).")
    var layers: [String] = []

    @Option(help: "Accuracy budget for the suggestion: largest allowed top-1 drop (absolute fraction, 0.01 = 1 point).")
    var maxDrop: Double?

    @Option(help: "Write an SVG chart (accuracy vs sparsity, one line per layer).")
    var svg: String?

    @Option(help: "Write a Markdown report (table and suggestion; links the SVG when --svg is given).")
    var markdown: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    /// The sweep's settings from the options.
    func options() throws -> PruningSensitivityOptions {
        var levels = PruningSensitivityOptions.defaultLevels
        if let sparsities {
            levels = try sparsities.split(separator: ",", omittingEmptySubsequences: false).map { part in
                guard let v = Double(part.trimmingCharacters(in: .whitespaces)), v > 0, v < 1 else {
                    throw ValidationError("--sparsities: '\(part)' is not a level in (0, 1); give e.g. 0.1,0.5,0.9.")
                }
                return v
            }
        }
        return PruningSensitivityOptions(
            levels: levels, structure: structure, criterion: criterion, channelMultiple: channelMultiple,
            exclude: exclude, layers: layers, maxDrop: maxDrop, batchSize: dataset.batchSize)
    }

    func validate() throws {
        guard channelMultiple >= 1 else { throw ValidationError("--channel-multiple must be at least 1, not \(channelMultiple).") }
        if structure == .twoOfFour, sparsities != nil { throw ValidationError("--structure 2:4 has the single level 0.5; omit --sparsities.") }
        if structure == .heads { throw ValidationError("--structure heads is not swept per layer yet; run modelpress prune --structure heads at a few --sparsity levels.") }
        _ = try options()
        if let maxDrop, !(maxDrop.isFinite && maxDrop >= 0) { throw ValidationError("--max-drop must be a number ≥ 0, not \(maxDrop).") }
        guard dataset.batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    }

    func run() throws {
        for path in [svg, markdown].compactMap({ $0 }) { try AtomicFile.requireDirectory(of: path) }
        let graph = try model.load(feeding: dataset)
        let data = try dataset.open(requireLabels: true)
        let progress = ProgressReporter("sensitivity", quiet: output.quiet || json)
        let result = try PruningSensitivity.run(graph, model: model.model, data: data, dataName: dataset.data, options: try options(), progress: progress.update)
        if let svg { try AtomicFile.write(Data(result.chart().render().utf8), to: svg) }
        if let markdown { try AtomicFile.write(Data(result.markdown(svg: svg, relativeTo: markdown).utf8), to: markdown) }
        if json { try printJSON(result) } else { print(result.table()) }
    }
}
