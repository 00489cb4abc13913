import TensorCore

/// `--sparsity-per-layer NAME=S,…`.
enum PruneLayerTargets {
    /// Layer (or node) name → sparsity; empty for `nil`. Throws `invalidArgument` (exit 2) for an
    /// entry that is not `NAME=S` with a number S, or a name given twice. Ranges are checked by
    /// `PruningConfiguration.validate`, names against the model by the pruning pass.
    static func parse(_ text: String?) throws -> [String: Double] {
        guard let text else { return [:] }
        var targets: [String: Double] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts.first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            guard parts.count == 2, !name.isEmpty, let s = Double(parts[1].trimmingCharacters(in: .whitespaces)) else {
                throw ModelPressError.invalidArgument("--sparsity-per-layer: '\(item)' is not NAME=S.\nHINT: write e.g. --sparsity-per-layer conv_1=0.5,dense=0.9.")
            }
            guard targets[name] == nil else {
                throw ModelPressError.invalidArgument("--sparsity-per-layer: '\(name)' is given twice.")
            }
            targets[name] = s
        }
        return targets
    }
}
