import TensorCore

/// Which weights compete for removal.
public enum PruningScope: String, Sendable, CaseIterable {
    /// Each kernel loses exactly `round(S·n)` of its own `n` weights.
    case layer
    /// One magnitude threshold across all prunable kernels: exactly `round(S·N)` of the `N`
    /// weights in total are removed, unevenly across layers.
    case global
}

/// The shape of what is removed.
public enum PruningStructure: String, Sendable, CaseIterable {
    /// Individual weights, smallest `|w|` first.
    case unstructured
    /// N:M 2:4 along the input dimension: in every group of 4 consecutive inputs, the 2
    /// smallest `|w|` are removed (50% sparsity by construction).
    case twoOfFour = "2:4"
}

/// What `prune` and `sensitivity` remove: weights (unstructured or 2:4) or whole channels.
public enum PruningGranularity: String, Sendable, CaseIterable, Encodable {
    /// Individual weights, smallest `|w|` first.
    case unstructured
    /// 2:4 along the input dimension (50% by construction).
    case twoOfFour = "2:4"
    /// Whole output channels, with the layers tied to them (residual Adds); see `ChannelPruning`.
    case channel
    /// Whole attention heads; see `HeadPruning`.
    case heads

    /// The weight-level structure, or nil for channel and head pruning.
    public var weightStructure: PruningStructure? {
        switch self {
        case .unstructured: return .unstructured
        case .twoOfFour: return .twoOfFour
        case .channel, .heads: return nil
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
    /// Target sparsity `S ∈ [0, 1)` for unstructured pruning; 2:4 is always 0.5.
    public var sparsity: Double
    /// Per-layer or global magnitude ranking (unstructured only).
    public var scope: PruningScope
    /// Unstructured or 2:4.
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
        perLayer[k.node] ?? perLayer[k.layer] ?? (structure == .twoOfFour ? 0.5 : sparsity)
    }

    /// Whether kernel `k` has its own `perLayer` target.
    func hasOwnTarget(_ k: PrunableKernel) -> Bool { perLayer[k.node] != nil || perLayer[k.layer] != nil }

    /// This configuration with every unstructured target multiplied by `factor` (the AGP ramp's
    /// fraction of the final sparsity); 2:4 is not scaled.
    public func scaled(by factor: Double) -> PruningConfiguration {
        guard structure == .unstructured else { return self }
        var c = self
        c.sparsity = sparsity * factor
        c.perLayer = perLayer.mapValues { $0 * factor }
        return c
    }
}
