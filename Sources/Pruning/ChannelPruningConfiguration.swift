import TensorCore

/// How an output channel (filter) is scored: the norm of its weights.
public enum ChannelCriterion: String, Sendable, CaseIterable, Encodable {
    /// Sum of `|w|` over the filter.
    case l1
    /// `sqrt(Σ w²)` over the filter.
    case l2
}

/// What channel pruning removes.
public struct ChannelPruningConfiguration: Sendable {
    /// Fraction of the output channels of each pruned group to delete, in [0, 1).
    public var sparsity: Double
    /// Per-layer fractions overriding `sparsity` (by layer or node name); naming a layer here
    /// requests it explicitly: a layer whose channels cannot be removed is then an error.
    public var perLayer: [String: Double]
    /// When non-nil, only these layers (layer or node names) are pruned; each is requested
    /// explicitly (an unprunable one is an error).
    public var only: [String]?
    /// L1 or L2 filter norm.
    public var criterion: ChannelCriterion
    /// Layers or nodes left alone.
    public var exclude: [String]
    /// The kept channel count of each group is rounded up to a multiple of this (1: exact
    /// `round(S·C)` removed). Runtimes' blocked SIMD kernels want multiples of 8 or 16.
    public var multiple: Int

    /// A configuration; `validate()` checks the ranges (the pass calls it).
    public init(
        sparsity: Double, perLayer: [String: Double] = [:], only: [String]? = nil,
        criterion: ChannelCriterion = .l1, exclude: [String] = [], multiple: Int = 1
    ) {
        self.sparsity = sparsity
        self.perLayer = perLayer
        self.only = only
        self.criterion = criterion
        self.exclude = exclude
        self.multiple = multiple
    }

    /// Throws `invalidArgument` (exit 2) for a sparsity outside [0, 1) or a multiple below 1.
    public func validate() throws {
        guard multiple >= 1, multiple <= 4096 else {
            throw ModelPressError.invalidArgument("--channel-multiple \(multiple) is outside 1…4096.\nHINT: give 1 for exact counts, or 8 / 16 for SIMD-friendly channel counts.")
        }
        for (name, s) in [("--sparsity", sparsity)] + perLayer.sorted(by: { $0.key < $1.key }).map({ ("layer '\($0.key)'", $0.value) }) {
            guard s >= 0, s < 1 else {
                throw ModelPressError.invalidArgument("\(name): sparsity \(s) is outside [0, 1).\nHINT: give the fraction of channels to remove, e.g. 0.5.")
            }
        }
    }

    /// Number of channels removed from `count` at sparsity `s`: `round(s·count)`, at most
    /// `count − 1`; then the kept count `count − removed` is rounded up to a multiple of
    /// `multiple` (never above `count`).
    public static func removedCount(sparsity: Double, count: Int, multiple: Int = 1) -> Int {
        let removed = min(max(0, count - 1), MagnitudeMask.prunedCount(sparsity: sparsity, count: count))
        guard multiple > 1 else { return removed }
        let kept = count - removed
        let rounded = min(count, (kept + multiple - 1) / multiple * multiple)
        return count - rounded
    }
}
