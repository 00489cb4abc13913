import ArgumentParser
import Evaluation
import Foundation
import ModelIO
import Passes
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

    @Option(help: "What is removed: unstructured, 2:4 or channel.")
    var structure = "unstructured"

    @Option(help: "Channel score for --structure channel: l1 or l2 filter norm.")
    var criterion = "l1"

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

    static let defaultLevels = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]

    /// The levels to measure.
    func levels() throws -> [Double] {
        if structure == "2:4" { return [0.5] }
        guard let sparsities else { return Self.defaultLevels }
        var out: [Double] = []
        for part in sparsities.split(separator: ",", omittingEmptySubsequences: false) {
            guard let v = Double(part.trimmingCharacters(in: .whitespaces)), v > 0, v < 1 else {
                throw ValidationError("--sparsities: '\(part)' is not a level in (0, 1); give e.g. 0.1,0.5,0.9.")
            }
            out.append(v)
        }
        return Array(Set(out)).sorted()
    }

    func validate() throws {
        guard ["unstructured", "2:4", "channel"].contains(structure) else {
            throw ValidationError("--structure must be unstructured, 2:4 or channel, not '\(structure)'.")
        }
        guard ChannelCriterion(rawValue: criterion) != nil else { throw ValidationError("--criterion must be l1 or l2, not '\(criterion)'.") }
        guard channelMultiple >= 1 else { throw ValidationError("--channel-multiple must be at least 1, not \(channelMultiple).") }
        if structure == "2:4", sparsities != nil { throw ValidationError("--structure 2:4 has the single level 0.5; omit --sparsities.") }
        _ = try levels()
        if let maxDrop, !(maxDrop.isFinite && maxDrop >= 0) { throw ValidationError("--max-drop must be a number ≥ 0, not \(maxDrop).") }
        guard dataset.batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    }

    /// One layer (or tied group) of the analysis.
    struct Unit: Encodable {
        var name: String
        var nodes: [String]
        var parameters: Int
        var accuracy: [Double]
        var suggested: Double?
    }

    /// The whole result (`--json`).
    struct Result: Encodable {
        var model: String, data: String, structure: String, criterion: String?
        var samples: Int, baseline: Double, sparsities: [Double]
        var maxDrop: Double?
        var layers: [Unit]
        var skipped: [Skipped]
        var note: String
    }

    /// A layer left out, and why.
    struct Skipped: Encodable {
        var name: String, reason: String
    }

    func run() throws {
        for path in [svg, markdown].compactMap({ $0 }) {
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ModelPressError.invalidArgument("\(path): the directory \(dir) does not exist.\nHINT: create it first or choose another output path.")
            }
        }
        let loaded = try model.load()
        guard loaded.quantization.isEmpty else {
            throw ModelPressError.invalidArgument("\(model.model): the model is quantized; its weights cannot be pruned.\nHINT: analyse the float model.")
        }
        let folded = try runPasses(exportPasses, on: loaded).0
        guard let classes = folded.outputs.first?.shape.last, folded.outputs[0].shape.count == 2, classes >= 2 else {
            throw ModelPressError.invalidArgument("\(model.model): output shape \(folded.outputs.first?.shape ?? []) is not N×classes; sensitivity measures classifiers")
        }
        let data = try dataset.open(requireLabels: true)
        let levels = try levels()
        let (units, skipped, prune) = try plan(folded)
        let quiet = output.quiet || json

        func accuracy(_ graph: Graph) throws -> Double {
            let runner = try DatasetRunner(graph: graph, batchSize: dataset.batchSize)
            var metrics = ClassificationMetrics(classes: classes)
            try runner.forEachBatch(data) { rows, scores in metrics.add(scores: scores, labels: try data.labels(rows, classes: classes)) }
            return metrics.accuracy
        }
        let baseline = try accuracy(folded)
        var results = units
        let total = units.count * levels.count
        let progress = ProgressReporter("sensitivity", quiet: quiet)
        for u in results.indices {
            for level in levels {
                results[u].accuracy.append(try accuracy(try prune(results[u], level)))
                progress.update(u * levels.count + results[u].accuracy.count, total)
            }
            if let maxDrop {
                results[u].suggested = Self.suggestion(levels: levels, accuracy: results[u].accuracy, baseline: baseline, maxDrop: maxDrop)
            }
        }
        let result = Result(model: model.model, data: dataset.data, structure: structure, criterion: structure == "channel" ? criterion : nil,
                            samples: data.count, baseline: baseline, sparsities: levels, maxDrop: maxDrop, layers: results, skipped: skipped,
                            note: "each layer pruned alone, one-shot, without fine-tuning; suggestions are per-layer-alone estimates")
        if let svg {
            try AtomicFile.write(Data(Self.chart(result).render().utf8), to: svg)
        }
        if let markdown {
            try AtomicFile.write(Data(Self.markdown(result, svg: svg, relativeTo: markdown).utf8), to: markdown)
        }
        if json {
            try printJSON(result)
        } else {
            print(Self.table(result))
        }
    }

    /// The units to analyse, the layers left out, and how to prune one unit at one level.
    func plan(_ folded: Graph) throws -> ([Unit], [Skipped], (Unit, Double) throws -> Graph) {
        var units: [Unit] = []
        var skipped: [Skipped] = []
        func wanted(_ names: [String]) -> Bool {
            !names.contains { exclude.contains($0) } && (layers.isEmpty || names.contains { layers.contains($0) })
        }
        if structure == "channel" {
            let groups = ChannelGroups(folded)
            let config = ChannelPruningConfiguration(sparsity: 0, only: layers.isEmpty ? nil : layers,
                                                     criterion: ChannelCriterion(rawValue: criterion) ?? .l1, exclude: exclude)
            // Checks the names (unknown → exit 2, an explicitly requested layer that cannot lose channels → exit 2).
            _ = try ChannelPruning(config).prune(folded)
            for g in groups.groups {
                let members = g.members.map { groups.sources[$0] }
                let name = members.map(\.layer).joined(separator: " + ")
                if let reason = g.reason { skipped.append(.init(name: name, reason: reason)); continue }
                guard wanted(members.flatMap { [$0.node, $0.layer] }) else { continue }
                let params = members.reduce(0) { $0 + (folded.initializers[$1.weight]?.count ?? 0) }
                units.append(Unit(name: name, nodes: members.map(\.node), parameters: params, accuracy: []))
            }
            let (criterion, multiple) = (config.criterion, channelMultiple)
            return (units, skipped, { unit, level in
                try ChannelPruning(.init(sparsity: level, only: [unit.nodes[0]], criterion: criterion, multiple: multiple)).prune(folded).0
            })
        }
        let pruningStructure: PruningStructure = structure == "2:4" ? .twoOfFour : .unstructured
        let (kernels, unprunable) = PrunableKernel.candidates(in: folded)
        let known = Set(kernels.flatMap { [$0.node, $0.layer] })
        let unknown = (exclude + layers).filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw ModelPressError.invalidArgument("no prunable layer named \(unknown.map { "'\($0)'" }.joined(separator: ", ")).\nHINT: prunable layers: \(kernels.map(\.layer).joined(separator: ", ")).")
        }
        for u in unprunable { skipped.append(.init(name: u.layer, reason: u.reason)) }
        for k in kernels where wanted([k.node, k.layer]) {
            if pruningStructure == .twoOfFour, k.inputs % 4 != 0 {
                if !layers.isEmpty {
                    throw ModelPressError.invalidArgument("layer '\(k.layer)': input dimension \(k.inputs) is not a multiple of 4; 2:4 cannot apply.\nHINT: leave it out of --layers.")
                }
                skipped.append(.init(name: k.layer, reason: "input dimension \(k.inputs) is not a multiple of 4"))
                continue
            }
            units.append(Unit(name: k.layer, nodes: [k.node], parameters: k.count, accuracy: []))
        }
        let nodes = kernels.map(\.node)
        let position = Dictionary(folded.nodes.enumerated().map { ($1.layer, $0) }, uniquingKeysWith: { a, _ in a })
        skipped.sort { (position[$0.name] ?? 0) < (position[$1.name] ?? 0) }
        return (units, skipped, { unit, level in
            let others = nodes.filter { $0 != unit.nodes[0] }
            return try MagnitudePruning(PruningConfiguration(sparsity: level, structure: pruningStructure, exclude: others)).prune(folded).0
        })
    }

    /// The highest level such that it and every lower level lose at most `maxDrop`; nil when even the lowest does not hold.
    static func suggestion(levels: [Double], accuracy: [Double], baseline: Double, maxDrop: Double) -> Double? {
        var best: Double?
        for (level, a) in zip(levels, accuracy) {
            guard baseline - a <= maxDrop + 1e-12 else { break }
            best = level
        }
        return best
    }
}
