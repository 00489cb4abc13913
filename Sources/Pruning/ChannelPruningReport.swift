/// What channel pruning did: per Conv/Linear node, channels, parameters and MACs before and after.
public struct ChannelPruningReport: Equatable, Sendable, Encodable {
    /// One Conv/Linear node.
    public struct Layer: Equatable, Sendable, Encodable {
        /// The IR node.
        public var node: String
        /// Its source layer.
        public var layer: String
        /// `Conv`, `Conv(g=…)` or `Linear`.
        public var op: String
        /// Input channels (Conv weight I·group, Linear K) before and after.
        public var inputsBefore: Int
        /// Input channels after.
        public var inputsAfter: Int
        /// Output channels before.
        public var channelsBefore: Int
        /// Output channels after.
        public var channelsAfter: Int
        /// Parameters (weight + bias) before.
        public var parametersBefore: Int
        /// Parameters after.
        public var parametersAfter: Int
        /// Multiply-accumulates per sample before.
        public var macsBefore: Int
        /// Multiply-accumulates per sample after.
        public var macsAfter: Int
        /// The channel group (index into `groups`) its output channels belong to, when it is a source (absent from the JSON otherwise).
        public var group: Int?
        /// `pruned`, `inputs sliced`, `unchanged`, or why its output channels were left alone.
        public var status: String
    }

    /// `l1` or `l2`.
    public var criterion: String
    /// The default sparsity asked for.
    public var targetSparsity: Double
    /// Every Conv/Linear node in node order.
    public var layers: [Layer]
    /// Groups of tied layers (node names) and what happened to each.
    public var groups: [Group]
    /// Parameters of the whole graph before.
    public var parametersBefore: Int
    /// Parameters after.
    public var parametersAfter: Int
    /// MACs per sample of the whole graph before.
    public var macsBefore: Int
    /// MACs after.
    public var macsAfter: Int

    /// A set of layers whose output channels are pruned with one ranking.
    public struct Group: Equatable, Sendable, Encodable {
        /// Member nodes.
        public var nodes: [String]
        /// Channels before.
        public var channelsBefore: Int
        /// Channels after.
        public var channelsAfter: Int
        /// The sparsity applied (0 when left alone).
        public var sparsity: Double
        /// The deleted channel indices (original numbering), ascending.
        public var removed: [Int]
        /// Nil when pruned (or nothing asked), else why the group was left alone.
        public var skipped: String?

        private enum CodingKeys: String, CodingKey { case nodes, channelsBefore, channelsAfter, sparsity, removed, skipped }

        /// Encodes every field; `skipped` is written as `null` for pruned groups.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(nodes, forKey: .nodes)
            try c.encode(channelsBefore, forKey: .channelsBefore)
            try c.encode(channelsAfter, forKey: .channelsAfter)
            try c.encode(sparsity, forKey: .sparsity)
            try c.encode(removed, forKey: .removed)
            try c.encode(skipped, forKey: .skipped)
        }
    }
}
