import TensorCore

/// Which weights of each pruned kernel must stay zero while fine-tuning. Meant for the
/// `afterStep` hook of `Trainer.fit` (Sources/Training): call `apply` after every optimizer
/// step so that gradient updates cannot revive pruned weights.
public struct PruningMasks: Equatable, Sendable {
    /// Flat indices held at zero, by initializer name.
    public private(set) var zeroed: [String: [Int]]

    /// Masks from explicit indices.
    public init(zeroed: [String: [Int]]) {
        self.zeroed = zeroed
    }

    /// The masks of the kernels `report` marks as pruned: every weight of theirs that is
    /// exactly zero in `graph` (the pruned graph), so weights that were zero before pruning
    /// are held at zero too.
    public init(graph: Graph, report: PruningReport) {
        var zeroed: [String: [Int]] = [:]
        for layer in report.layers where layer.skipped == nil {
            guard let weight = graph.initializers[layer.weight] else { continue }
            zeroed[layer.weight] = weight.storage.indices.filter { weight.storage[$0] == 0 }
        }
        self.zeroed = zeroed
    }

    /// Zeroes the masked weights of `parameters`, named by `names` in the same order; tensors
    /// without a mask are left alone. Throws `internalError` when a mask does not fit its tensor.
    public func apply(to parameters: inout [Tensor], names: [String]) throws {
        guard names.count == parameters.count else {
            throw ModelPressError.internalError("pruning masks: \(names.count) names for \(parameters.count) tensors")
        }
        for (i, name) in names.enumerated() {
            guard let indices = zeroed[name] else { continue }
            let count = parameters[i].count
            guard indices.allSatisfy({ $0 < count }) else {
                throw ModelPressError.internalError("pruning masks: the mask of '\(name)' does not fit its \(count) weights")
            }
            for j in indices { parameters[i].storage[j] = 0 }
        }
    }
}
