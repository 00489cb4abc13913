import Evaluation
import Foundation
import Passes
import TensorCore

/// The settings of a pruning sensitivity sweep.
public struct PruningSensitivityOptions: Sendable {
    /// The levels measured when none are given.
    public static let defaultLevels = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]

    /// Sparsity levels in (0, 1), measured in ascending order (2:4 always measures 0.5 alone).
    public var levels: [Double]
    /// What is removed.
    public var structure: PruningGranularity
    /// Channel score for `.channel`.
    public var criterion: ChannelCriterion
    /// For `.channel`: kept channel counts are rounded up to a multiple of this.
    public var channelMultiple: Int
    /// Layers (or IR nodes) left out of the sweep.
    public var exclude: [String]
    /// When not empty, only these layers are measured (each must be prunable).
    public var layers: [String]
    /// Accuracy budget for the per-layer suggestion (absolute top-1 fraction), if any.
    public var maxDrop: Double?
    /// Samples per engine batch.
    public var batchSize: Int

    /// Options with the defaults of `modelpress sensitivity`.
    public init(
        levels: [Double] = defaultLevels, structure: PruningGranularity = .unstructured, criterion: ChannelCriterion = .l1,
        channelMultiple: Int = 1, exclude: [String] = [], layers: [String] = [], maxDrop: Double? = nil, batchSize: Int = 64
    ) {
        self.levels = levels
        self.structure = structure
        self.criterion = criterion
        self.channelMultiple = channelMultiple
        self.exclude = exclude
        self.layers = layers
        self.maxDrop = maxDrop
        self.batchSize = batchSize
    }

    /// The levels actually measured: sorted, without repeats; `[0.5]` for 2:4.
    public var measuredLevels: [Double] { structure == .twoOfFour ? [0.5] : Array(Set(levels)).sorted() }

    /// Fails with `invalidArgument` when a level, the multiple, the budget or the batch size is out of range.
    public func validate() throws {
        if let bad = levels.first(where: { !($0 > 0 && $0 < 1) }) {
            throw ModelPressError.invalidArgument("sparsity level \(bad) is not in (0, 1); give e.g. 0.1,0.5,0.9.")
        }
        guard channelMultiple >= 1 else { throw ModelPressError.invalidArgument("the channel multiple must be at least 1, not \(channelMultiple).") }
        if let maxDrop, !(maxDrop.isFinite && maxDrop >= 0) { throw ModelPressError.invalidArgument("the accuracy budget must be a number ≥ 0, not \(maxDrop).") }
        guard batchSize >= 1 else { throw ModelPressError.invalidArgument("the batch size must be at least 1, not \(batchSize).") }
    }
}

/// Accuracy vs sparsity of each prunable layer pruned alone (one-shot, no fine-tuning), and
/// a per-layer sparsity suggestion under an accuracy budget (docs/pruning.md, "Sensitivity").
public struct PruningSensitivity: Encodable, Sendable {
    /// One layer (or tied channel group) of the sweep.
    public struct Unit: Encodable, Sendable {
        /// The layer's name (tied groups: `a + b`).
        public var name: String
        /// Its IR nodes.
        public var nodes: [String]
        /// Its weight count.
        public var parameters: Int
        /// Top-1 accuracy at each level of `sparsities`.
        public var accuracy: [Double]
        /// The highest level within the budget (nil: none, or no budget).
        public var suggested: Double?
    }

    /// A layer left out, and why.
    public struct Skipped: Encodable, Sendable {
        /// The layer's name.
        public var name: String
        /// Why it cannot be pruned.
        public var reason: String
    }

    /// The model file (for reports).
    public var model: String
    /// The dataset file (for reports).
    public var data: String
    /// What was removed.
    public var structure: String
    /// The channel criterion (channel structure only).
    public var criterion: String?
    /// Samples evaluated per measurement.
    public var samples: Int
    /// Unpruned top-1 accuracy.
    public var baseline: Double
    /// The levels measured.
    public var sparsities: [Double]
    /// The budget of the suggestion.
    public var maxDrop: Double?
    /// The measured layers in graph order.
    public var layers: [Unit]
    /// The layers that cannot be pruned.
    public var skipped: [Skipped]
    /// How to read the figures.
    public var note: String

    /// Runs the sweep on `graph` (read from `model`; its export passes run first, as in
    /// prune) over every sample of `data` (named `dataName` in reports); `progress(done,
    /// total)` after each measurement.
    public static func run(
        _ graph: Graph, model: String, data: any LabelledBatchSource, dataName: String,
        options: PruningSensitivityOptions, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> PruningSensitivity {
        try options.validate()
        guard graph.quantization.isEmpty else {
            throw ModelPressError.invalidArgument("\(model): the model is quantized; its weights cannot be pruned.\nHINT: analyse the float model.")
        }
        let folded = try runPasses(exportPasses, on: graph).0
        _ = try DatasetAccuracy.requireClassifier(folded, model: model, purpose: "sensitivity")
        let levels = options.measuredLevels
        let sweep = try SensitivitySweep(folded, options: options)
        func accuracy(_ g: Graph) throws -> Double { try DatasetAccuracy.accuracy(of: g, on: data, batchSize: options.batchSize) }
        let baseline = try accuracy(folded)
        var units = sweep.units
        for u in units.indices {
            for level in levels {
                units[u].accuracy.append(try accuracy(try sweep.prune(units[u], level)))
                progress(u * levels.count + units[u].accuracy.count, units.count * levels.count)
            }
            if let maxDrop = options.maxDrop {
                units[u].suggested = suggestion(levels: levels, accuracy: units[u].accuracy, baseline: baseline, maxDrop: maxDrop)
            }
        }
        return PruningSensitivity(
            model: model, data: dataName, structure: options.structure.name,
            criterion: options.structure == .channel ? options.criterion.rawValue : nil,
            samples: data.count, baseline: baseline, sparsities: levels, maxDrop: options.maxDrop,
            layers: units, skipped: sweep.skipped,
            note: "each layer pruned alone, one-shot, without fine-tuning; suggestions are per-layer-alone estimates")
    }

    /// The highest level such that it and every lower level lose at most `maxDrop`; nil when even the lowest does not hold.
    public static func suggestion(levels: [Double], accuracy: [Double], baseline: Double, maxDrop: Double) -> Double? {
        var best: Double?
        for (level, a) in zip(levels, accuracy) {
            guard baseline - a <= maxDrop + 1e-12 else { break }
            best = level
        }
        return best
    }
}
