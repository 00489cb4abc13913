import TensorCore

/// Where a Keras model's weights live in an HDF5 file.
enum KerasWeightStore {
    /// Keras 2 / legacy layout (`model.save("m.h5")` in any Keras, `save_weights` in tf-keras):
    /// one group per layer carrying a `weight_names` attribute; datasets at those paths.
    case legacy(HDF5Group)
    /// Keras 3 layout (`.weights.h5`, `model.weights.h5` inside `.keras`): `layers/<group>/vars/<i>`,
    /// groups named after the layer class in model order (`conv2d`, `conv2d_1`, …) with the
    /// layer's own name in the `vars` group's `name` attribute. `groups` maps layer name → group.
    case keras3(HDF5Group, groups: [String: String])

    /// Picks the layout of an open weights file or `model_weights` group.
    static func detect(in group: HDF5Group) throws -> KerasWeightStore {
        if group.hasAttribute("layer_names") { return .legacy(group) }
        if group.kind(of: "layers") == .group {
            let layers = try group.group("layers")
            var groups: [String: String] = [:]
            for child in try layers.children() {
                let vars = try? layers.group(child + "/vars")
                let name = (try? vars?.stringAttribute("name")) ?? child
                groups[name] = child
            }
            return .keras3(layers, groups: groups)
        }
        if group.kind(of: "model_weights") == .group { return try detect(in: try group.group("model_weights")) }
        throw ModelPressError.invalidModel(
            file: group.filePath, location: "HDF5 group '\(group.name)'",
            message: "holds no Keras weights (no layer_names attribute, no 'layers' group)",
            hint: "pass a file written by model.save() or model.save_weights()")
    }

    /// The weights of `layer`, keyed by the names in `expected` (Keras variable names such
    /// as `kernel`, `bias`, `gamma`, in the order the layer creates them).
    func weights(of layer: String, expected: [String]) throws -> [String: Tensor] {
        if expected.isEmpty { return [:] }
        switch self {
        case .legacy(let root): return try Self.legacyWeights(root, layer: layer, expected: expected)
        case .keras3(let layers, let groups):
            return try Self.keras3Weights(layers, group: groups[layer] ?? layer, layer: layer, expected: expected)
        }
    }

    private static func legacyWeights(_ root: HDF5Group, layer: String, expected: [String]) throws -> [String: Tensor] {
        let group = try root.group(layer)
        let names = try group.stringsAttribute("weight_names")
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
