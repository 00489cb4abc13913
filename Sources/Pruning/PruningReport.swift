/// What magnitude pruning did to each Dense/Conv kernel.
public struct PruningReport: Equatable, Sendable, Encodable {
    /// One Dense/Conv kernel.
    public struct Layer: Equatable, Sendable, Encodable {
        /// The IR node.
        public var node: String
        /// The source layer.
        public var layer: String
        /// `Linear` or `Conv` (or a recurrent layer's kernel, `LSTM` / `LSTM R`).
        public var op: String
        /// The kernel's initializer ("" when it is not one).
        public var weight: String
        /// The weight's shape (Dense K×M, Conv OIHW).
        public var shape: [Int]
        /// Number of weights.
        public var parameters: Int
        /// Nonzero weights after pruning.
        public var nonzeros: Int
        /// Weights this run set to zero (0 when skipped).
        public var pruned: Int
        /// `1 − nonzeros / parameters`.
        public var sparsity: Double
        /// The sparsity asked of this kernel (`nil` when skipped).
        public var target: Double?
        /// `nil` when pruned; otherwise why the kernel was left as it was.
        public var skipped: String?
        /// Bytes of the weight as stored in the file and gzip-compressed (filled by `PruningStorage`).
        public var storage: PruningStorage.Bytes?
        /// Under block pruning, the bytes a block-sparse (BSR) runtime stores (filled by `PruningStorage`).
        public var blockSparse: PruningStorage.Bytes?

        private enum CodingKeys: String, CodingKey { case node, layer, op, weight, shape, parameters, nonzeros, pruned, sparsity, target, skipped, storage, blockSparse }

        /// Encodes every field; `skipped` is written as `null` for pruned kernels.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(node, forKey: .node)
            try c.encode(layer, forKey: .layer)
            try c.encode(op, forKey: .op)
            try c.encode(weight, forKey: .weight)
            try c.encode(shape, forKey: .shape)
            try c.encode(parameters, forKey: .parameters)
            try c.encode(nonzeros, forKey: .nonzeros)
            try c.encode(pruned, forKey: .pruned)
            try c.encode(sparsity, forKey: .sparsity)
            try c.encode(target, forKey: .target)
            try c.encode(skipped, forKey: .skipped)
            try c.encodeIfPresent(storage, forKey: .storage)
            try c.encodeIfPresent(blockSparse, forKey: .blockSparse)
        }
    }

    /// `unstructured`, `2:4` or `block:RxC` (`PruningStructure.name`).
    public var structure: String
    /// `layer` or `global`.
    public var scope: String
    /// The requested sparsity.
    public var targetSparsity: Double
    /// Every Dense/Conv kernel in node order.
    public var layers: [Layer]

    /// Weights in kernels this run pruned.
    public var prunedParameters: Int { layers.filter { $0.skipped == nil }.reduce(0) { $0 + $1.parameters } }
    /// Nonzeros in kernels this run pruned.
    public var prunedNonzeros: Int { layers.filter { $0.skipped == nil }.reduce(0) { $0 + $1.nonzeros } }

    /// Kernels this run left with no nonzero weight (a global threshold can do that to a layer
    /// of small weights): its output no longer depends on its input.
    public var warnings: [String] {
        layers.filter { $0.skipped == nil && $0.nonzeros == 0 && $0.parameters > 0 }.map {
            "layer '\($0.layer)' has no nonzero weight left; its output no longer depends on its input. Exclude it (--exclude \($0.layer)) or use --scope layer."
        }
    }

    private enum CodingKeys: String, CodingKey { case structure, scope, targetSparsity, layers, prunedParameters, prunedNonzeros, warnings }

    /// Encodes the stored fields, the two totals and the warnings.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(structure, forKey: .structure)
        try c.encode(scope, forKey: .scope)
        try c.encode(targetSparsity, forKey: .targetSparsity)
        try c.encode(layers, forKey: .layers)
        try c.encode(prunedParameters, forKey: .prunedParameters)
        try c.encode(prunedNonzeros, forKey: .prunedNonzeros)
        try c.encode(warnings, forKey: .warnings)
    }
}
