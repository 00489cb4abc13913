import TensorCore

/// Which weights compete for removal.
public enum PruningScope: String, Sendable, CaseIterable {
    /// What `prune` uses when `--scope` is not given: LAMP for unstructured and block pruning,
    /// the best across the fixtures in docs/defaults.md (plain global ranking empties the layers
    /// of BatchNorm models); 2:4 is decided inside each group, so per layer.
    public static func recommended(for structure: PruningStructure) -> PruningScope {
        structure == .twoOfFour ? .layer : .lamp
    }

    /// Each kernel loses exactly `round(S·n)` of its own `n` weights.
    case layer
    /// One magnitude threshold across all prunable kernels: exactly `round(S·N)` of the `N`
    /// weights in total are removed, unevenly across layers.
    case global
    /// One threshold across all kernels on LAMP scores (`MagnitudeMask.lampScores`): exactly
    /// `round(S·N)` weights in total, each layer's share set by its own distribution, whatever its
    /// scale (BatchNorm-scaled kernels compete fairly), and no layer emptied.
    case lamp
}

/// A block of weights removed together: `outputs` consecutive output channels × `inputs`
/// consecutive inputs at one kernel position (`4x1`: INC's 4x1 on PyTorch `[out, in]` weights,
/// TFMOT's `block_size=(1, 4)` on Keras `[in, out]` kernels).
public struct PruningBlock: Sendable, Hashable {
    /// Consecutive output channels in a block (Conv O, Dense M).
    public var outputs: Int
    /// Consecutive inputs in a block (Conv I, Dense K).
    public var inputs: Int

    /// A block of `outputs` × `inputs` weights.
    public init(outputs: Int, inputs: Int) {
        self.outputs = outputs
        self.inputs = inputs
    }

    /// Parses `RxC` (`4x1`); nil unless both are whole numbers in 1…64 and the block holds at least 2 weights.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let r = Int(parts[0]), let c = Int(parts[1]), (1...64).contains(r), (1...64).contains(c), r * c >= 2 else { return nil }
        self.init(outputs: r, inputs: c)
    }

    /// `RxC`.
    public var name: String { "\(outputs)x\(inputs)" }
}

/// The shape of what is removed.
public enum PruningStructure: Sendable, Hashable {
    /// Individual weights, smallest `|w|` first.
    case unstructured
    /// N:M 2:4 along the input dimension: in every group of 4 consecutive inputs, the 2
    /// smallest `|w|` are removed (50% sparsity by construction).
    case twoOfFour
    /// Whole blocks, smallest mean `|w|` first (see `MagnitudeMask.BlockGrid`).
    case block(PruningBlock)

    /// `unstructured`, `2:4` or `block:RxC`, as written on the command line and in reports.
    public var name: String {
        switch self {
        case .unstructured: "unstructured"
        case .twoOfFour: "2:4"
        case .block(let b): "block:" + b.name
        }
    }

    /// Whether a group spans several inputs: its weights then lie in the shipped kernel only
    /// after the export passes, whose channels-last Flatten fold permutes Dense rows.
    public var groupsSpanInputs: Bool {
        switch self {
        case .unstructured: false
        case .twoOfFour: true
        case .block(let b): b.inputs > 1
        }
    }
}

/// What `prune` and `sensitivity` remove: weights (unstructured, 2:4, blocks) or whole channels.
public enum PruningGranularity: Sendable, Hashable {
    /// Individual weights, smallest `|w|` first.
    case unstructured
    /// 2:4 along the input dimension (50% by construction).
    case twoOfFour
    /// Blocks of outputs × inputs, smallest mean `|w|` first.
    case block(PruningBlock)
    /// Whole output channels, with the layers tied to them (residual Adds); see `ChannelPruning`.
    case channel
    /// Whole attention heads; see `HeadPruning`.
    case heads

    /// Parses `unstructured`, `2:4`, `block:RxC`, `channel` or `heads`.
    public init?(name: String) {
        switch name {
        case "unstructured": self = .unstructured
        case "2:4": self = .twoOfFour
        case "channel": self = .channel
        case "heads": self = .heads
        default:
            guard name.hasPrefix("block:"), let block = PruningBlock(name.dropFirst(6)) else { return nil }
            self = .block(block)
        }
    }

    /// The spellings `init(name:)` accepts, for help texts.
    public static let names = ["unstructured", "2:4", "block:RxC", "channel", "heads"]

    /// As written on the command line and in reports.
    public var name: String { weightStructure?.name ?? (self == .channel ? "channel" : "heads") }

    /// The weight-level structure, or nil for channel and head pruning.
    public var weightStructure: PruningStructure? {
        switch self {
        case .unstructured: .unstructured
        case .twoOfFour: .twoOfFour
        case .block(let b): .block(b)
        case .channel, .heads: nil
        }
    }
}

/// Whether `prune` fine-tunes once after pruning or ramps the sparsity.
public enum PruningSchedule: String, Sendable, CaseIterable {
    /// Prune once (then fine-tune once when data is given).
    case oneshot
    /// Zhu & Gupta's cubic ramp over K steps, fine-tuning after each.
    case agp
}

/// What to prune and how.
public struct PruningConfiguration: Sendable {
    /// Target sparsity `S ∈ [0, 1)` (the fraction of blocks for block pruning); 2:4 is always 0.5.
    public var sparsity: Double
    /// Per-layer or global magnitude ranking (unstructured and blocks).
    public var scope: PruningScope
    /// Unstructured, 2:4 or blocks.
    public var structure: PruningStructure
    /// Node or layer names to leave dense; each must name a prunable kernel.
    public var exclude: [String]
    /// Kernels with fewer weights than this are left dense.
    public var minParameters: Int
    /// Per-kernel targets by node or layer name (`--sparsity-per-layer`); they replace
    /// `sparsity` for that kernel, which is then pruned to exactly its own target even in global
    /// scope. Each name must be a prunable kernel.
    public var perLayer: [String: Double] = [:]

    /// A configuration; validate it with `validate()` (the pass does).
    public init(
        sparsity: Double, scope: PruningScope = .layer, structure: PruningStructure = .unstructured,
        exclude: [String] = [], minParameters: Int = 0
    ) {
        self.sparsity = sparsity
        self.scope = scope
        self.structure = structure
        self.exclude = exclude
        self.minParameters = minParameters
    }

    /// Throws `ModelPressError.invalidArgument` (exit 2) for values outside their ranges.
    public func validate() throws {
        guard sparsity >= 0, sparsity < 1 else {
            throw ModelPressError.invalidArgument("--sparsity \(sparsity) is outside [0, 1).\nHINT: give the fraction of weights to remove, e.g. 0.8 for 80%.")
        }
        for (name, s) in perLayer.sorted(by: { $0.key < $1.key }) where !(s >= 0 && s < 1) {
            throw ModelPressError.invalidArgument("--sparsity-per-layer \(name)=\(s) is outside [0, 1).\nHINT: give each layer the fraction of its weights to remove, e.g. \(name)=0.8.")
        }
        if structure == .twoOfFour, !perLayer.isEmpty {
            throw ModelPressError.invalidArgument("--structure 2:4 removes exactly 50% of each group; --sparsity-per-layer cannot apply.\nHINT: use --exclude to leave layers dense.")
        }
        guard minParameters >= 0 else {
            throw ModelPressError.invalidArgument("--min-params \(minParameters) is negative.\nHINT: give 0 to prune every kernel.")
        }
        if structure == .twoOfFour {
            guard sparsity == 0.5 else {
                throw ModelPressError.invalidArgument("--structure 2:4 removes exactly 50% of each group; --sparsity \(sparsity) cannot apply.\nHINT: omit --sparsity or give 0.5.")
            }
            guard scope == .layer else {
                throw ModelPressError.invalidArgument("--structure 2:4 is decided inside each group of 4; --scope global does not apply.\nHINT: omit --scope or give layer.")
            }
        }
    }
}

extension PruningConfiguration {
    /// The target of kernel `k`: its `perLayer` entry (node name first, then layer name), else `sparsity`.
    public func target(for k: PrunableKernel) -> Double {
        perLayer[k.node] ?? perLayer[k.layer] ?? overallTarget
    }

    /// The sparsity asked of kernels without their own target: 0.5 for 2:4, else `sparsity`.
    public var overallTarget: Double { structure == .twoOfFour ? 0.5 : sparsity }

    /// Whether kernel `k` has its own `perLayer` target.
    func hasOwnTarget(_ k: PrunableKernel) -> Bool { perLayer[k.node] != nil || perLayer[k.layer] != nil }

    /// This configuration with every target multiplied by `factor` (the AGP ramp's fraction of
    /// the final sparsity); 2:4 is not scaled.
    public func scaled(by factor: Double) -> PruningConfiguration {
        guard structure != .twoOfFour else { return self }
        var c = self
        c.sparsity = sparsity * factor
        c.perLayer = perLayer.mapValues { $0 * factor }
        return c
    }
}
