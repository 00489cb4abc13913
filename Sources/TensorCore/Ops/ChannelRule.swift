/// How channel pruning treats an op: whether channels deleted upstream can flow through it,
/// which of its parameters are sliced with them, or why they cannot. Read by
/// `Pruning.ChannelGroups` (which channels may go) and `Pruning.ChannelRewrite` (deleting
/// them) alike, so the two cannot disagree.
public enum ChannelRule: Hashable, Sendable {
    /// A filter bank (Conv with one group, Linear): reads input channels along axis `consumes`
    /// of its weight (input 1) and makes new output channels along axis `produces` of it (and
    /// of the bias, input 2). `inputAxis` / `outputAxis` are the channel axes of its data input
    /// and output (negative: counted from the end).
    case filters(consumes: Int, produces: Int, inputAxis: Int, outputAxis: Int)
    /// A grouped convolution: with one group per input channel (depthwise), each input channel
    /// becomes `multiplier` output channels and weight axis 0 (and the bias) follow them;
    /// other groupings mix channels and refuse.
    case grouped(groups: Int)
    /// Channel `c` of input 0 along any axis not in `blocked` is channel `c` of every output;
    /// the listed inputs hold one entry per channel and are sliced with it.
    case passThrough(blocked: ChannelAxes, perChannel: [PerChannelInput], reason: String)
    /// Merges all non-batch axes into one (Flatten, Reshape to one feature axis): the
    /// channels become an index set along axis 1 that only filter banks may read.
    case flattens
    /// Moves axes: output axis `i` is input axis `perm[i]`.
    case permutes([Int])
    /// Concatenation along `axis`: channels of each input keep their offset.
    case concatenates(axis: Int)
    /// Elementwise over broadcast inputs: the channel spaces of all inputs are tied together
    /// (pruned jointly), and constant inputs are sliced along the aligned axis.
    case ties
    /// Channels cannot pass: the reason is reported.
    case refuses(String)
}

/// The channel axes an op does not let channels through (`axis` numbering of input 0).
public enum ChannelAxes: Hashable, Sendable {
    /// Every axis passes.
    case none
    /// Only these axes are blocked.
    case axes(Set<Int>)
    /// Only this axis passes, on inputs of this rank when one is given (pooling: axis 1 of a
    /// 4-D input).
    case allBut(axis: Int, rank: Int?)

    /// Whether channels along `axis` of an input of rank `rank` are blocked.
    public func blocks(_ axis: Int, rank: Int) -> Bool {
        switch self {
        case .none: return false
        case .axes(let set): return set.contains(axis)
        case .allBut(let a, let r): return axis != a || (r != nil && rank != r)
        }
    }
}

/// A parameter input holding one value per channel of the data input.
public struct PerChannelInput: Hashable, Sendable {
    /// The input position.
    public var input: Int
    /// How its axis is found: `nil` = broadcast-aligned with the data input (PRelu slope),
    /// else always this axis (BatchNorm's 1-D parameters: axis 0).
    public var axis: Int?
    /// Whether it must be a constant (initializer) for channels to pass.
    public var mustBeConstant: Bool

    /// Input `input`, sliced along `axis` (`nil`: broadcast-aligned).
    public init(input: Int, axis: Int?, mustBeConstant: Bool) {
        self.input = input
        self.axis = axis
        self.mustBeConstant = mustBeConstant
    }
}
