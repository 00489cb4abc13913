import TensorCore

/// A layer whose weights belong to a layer inside it: a recurrent layer's cell, a wrapper's
/// layer, a Bidirectional's forward or backward layer.
struct KerasSublayer {
    /// The group path under the layer's group in the Keras 3 layout (`cell`, `layer`,
    /// `forward_layer/cell`).
    var keras3Path: String
    /// The component(s) the weight names carry in the legacy layout (`forward_lstm`,
    /// `self_attention_layer/query`), if any.
    var legacyOwner: String?
}

/// Where a Keras model's weights live in an HDF5 file.
enum KerasWeightStore {
    /// Keras 2 / legacy layout (`model.save("m.h5")` in any Keras, `save_weights` in tf-keras):
    /// one group per layer carrying a `weight_names` attribute; datasets at those paths.
    case legacy(HDF5Group)
    /// Keras 3 layout (`.weights.h5`, `model.weights.h5` inside `.keras`): `layers/<group>/vars/<i>`,
    /// groups named after the layer class in model order (`conv2d`, `conv2d_1`, …) with the
    /// layer's own name in the `vars` group's `name` attribute; a nested model's layers sit in
    /// its group's `layers/`. `groups` maps layer path (`pathKey(["base", "conv"])`) → group
    /// (`functional/layers/conv2d`).
    case keras3(HDF5Group, groups: [String: String])

    /// Picks the layout of an open weights file or `model_weights` group.
    static func detect(in group: HDF5Group) throws -> KerasWeightStore {
        if group.hasAttribute("layer_names") { return .legacy(group) }
        if group.kind(of: "layers") == .group {
            let layers = try group.group("layers")
            var groups: [String: String] = [:]
            try collectKeras3Groups(layers, prefix: "", path: [], depth: 0, into: &groups)
            return .keras3(layers, groups: groups)
        }
        if group.kind(of: "model_weights") == .group { return try detect(in: try group.group("model_weights")) }
        throw ModelPressError.invalidModel(
            file: group.filePath, location: "HDF5 group '\(group.name)'",
            message: "holds no Keras weights (no layer_names attribute, no 'layers' group)",
            hint: "pass a file written by model.save() or model.save_weights()")
    }

    /// The key of a layer path in `groups` (layer names may themselves hold `/`: `Conv/BatchNorm`).
    static func pathKey(_ path: [String]) -> String { path.joined(separator: "\u{1F}") }

    /// Layer path → group of every layer under `layers` (`prefix`: the group holding this level,
    /// `functional/layers/`; `path`: the models around it), descending into nested models (at
    /// most `KerasGraphBuilder.maxNestingDepth` deep).
    private static func collectKeras3Groups(_ root: HDF5Group, prefix: String, path: [String], depth: Int, into groups: inout [String: String]) throws {
        guard depth <= KerasGraphBuilder.maxNestingDepth else { return }
        let here = prefix.isEmpty ? root : try root.group(String(prefix.dropLast()))
        for child in try here.children() {
            let vars = try? here.group(child + "/vars")
            let name = (try? vars?.stringAttribute("name")) ?? child
            groups[pathKey(path + [name])] = prefix + child
            if here.kind(of: child + "/layers") == .group {
                try collectKeras3Groups(root, prefix: prefix + child + "/layers/", path: path + [name], depth: depth + 1, into: &groups)
            }
        }
    }

    /// The weights of the layer at `path` (`["conv"]`, or `["base", "conv"]` inside a nested
    /// model), keyed by the names in `expected` (Keras variable names such as `kernel`, `bias`,
    /// `gamma`, in the order the layer creates them).
    func weights(of path: [String], expected: [String], within sublayer: KerasSublayer? = nil) throws -> [String: Tensor] {
        if expected.isEmpty { return [:] }
        switch self {
        case .legacy(let root): return try Self.legacyWeights(root, path: path, expected: expected, owner: sublayer?.legacyOwner)
        case .keras3(let layers, let groups):
            let shown = path.joined(separator: "/")
            let group = groups[Self.pathKey(path)] ?? shown
            return try Self.keras3Weights(layers, group: sublayer.map { group + "/" + $0.keras3Path } ?? group, layer: shown, expected: expected)
        }
    }

    /// Legacy layout: a top-level layer's group lists its weights. A layer inside a nested model
    /// is in the outermost model's group, under `inner/…/layer/var` or `outer/inner/…/layer/var`
    /// (Keras 3: a nested Functional, a nested Sequential) or `layer/var:0` (tf-keras).
    private static func legacyWeights(_ root: HDF5Group, path: [String], expected: [String], owner: String?) throws -> [String: Tensor] {
        let layer = path.joined(separator: "/")
        let group = try root.group(path.first ?? layer)
        var names = try group.stringsAttribute("weight_names")
        // The owner is one path component (`forward_lstm`) or several (`self_attention_layer/query`).
        if let owner { names = names.filter { ("/" + $0 + "/").contains("/" + owner + "/") } }
        if path.count > 1, let leaf = path.last {
            let inner = path.dropFirst().joined(separator: "/")
            names = names.filter { name in
                guard let slash = name.lastIndex(of: "/") else { return false }
                let owner = String(name[..<slash])
                return owner == inner || owner == layer || owner == leaf
            }
        }
        var found: [String: Tensor] = [:]
        for path in names {
            found[canonicalName(path)] = try group.dataset(path).readTensor()
        }
        // Positional fallback when names do not follow the usual spelling but counts agree.
        if !expected.allSatisfy({ found[$0] != nil }) && names.count == expected.count {
            found = [:]
            for (name, path) in zip(expected, names) { found[name] = try group.dataset(path).readTensor() }
        }
        for name in expected where found[name] == nil {
            throw ModelPressError.invalidModel(
                file: root.filePath, location: "layer '\(layer)'",
                message: "has no weight '\(name)' (stored: \(names.joined(separator: ", ")))",
                hint: "the weights do not belong to this architecture; re-save the model")
        }
        return found
    }

    private static func keras3Weights(_ layers: HDF5Group, group: String, layer: String, expected: [String]) throws -> [String: Tensor] {
        let vars = try layers.group("\(group)/vars")
        let stored = try vars.children()
        guard stored.count == expected.count else {
            throw ModelPressError.invalidModel(
                file: layers.filePath, location: "layer '\(layer)'",
                message: "stores \(stored.count) weights, its configuration needs \(expected.count) (\(expected.joined(separator: ", ")))",
                hint: "the weights do not belong to this architecture; re-save the model")
        }
        var found: [String: Tensor] = [:]
        for (i, name) in expected.enumerated() { found[name] = try vars.dataset(String(i)).readTensor() }
        return found
    }

    /// `dense_1/kernel:0` → `kernel`; `model/conv/depthwise_kernel` → `depthwise_kernel`.
    static func canonicalName(_ path: String) -> String {
        var base = path.split(separator: "/").last.map(String.init) ?? path
        if let colon = base.lastIndex(of: ":") { base = String(base[..<colon]) }
        return base
    }
}
