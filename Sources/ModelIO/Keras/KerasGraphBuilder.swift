import TensorCore

/// An IR value standing for a Keras tensor. Rank-4 values are either channels-last (as
/// Keras sees them: N×H×W×C) or channels-first (NCHW, what convolutions run on).
struct KerasValue {
    var name: String
    var channelsFirst: Bool
}

/// Builds the graph IR from a parsed Keras model config and its weights.
struct KerasGraphBuilder {
    let file: String
    let weights: KerasWeightStore
    /// Major Keras version that wrote the file (activations differ: see `activation(named:)`).
    let kerasMajor: Int
    var graph: Graph
    private var tensors: [KerasTensorRef: KerasValue] = [:]
    var layoutCache: [String: String] = [:]
    /// The tensors and booleans the layer call being converted received by keyword.
    var callKeywords: [String: KerasValue] = [:]
    var callOptions: [String: Bool] = [:]
    /// Keras masks: IR value → the N×L mask that travels with it (`KerasGraphBuilder+Masks.swift`).
    var masks: [String: String] = [:]
    /// Step masks already built, by `input|value` (Keras 3 records the one Embedding makes again).
    var stepMasks: [String: String] = [:]
    /// Keras 3 `NotEqual` of a sequence N×L×F, built reduced over the features for the `Any` that reads it.
    var featureReducedMasks: Set<String> = []
    /// Layer path (as shown, `/`-joined) → its components: the models around it, then its name.
    private var layerPaths: [String: [String]] = [:]

    /// Sizes for unknown input axes (`None` in Keras), from `--dim` or the data.
    let dimensions: InputDimensions
    /// The model's input layers in order (their positions match datasets given in order).
    private var inputOrder: [String] = []

    init(file: String, name: String, weights: KerasWeightStore, kerasMajor: Int, dimensions: InputDimensions = .none) {
        self.file = file
        self.weights = weights
        self.kerasMajor = kerasMajor
        self.dimensions = dimensions
        graph = Graph(name: name)
    }

    /// Keras classes of models, which other models may use as layers.
    static let modelClasses: Set<String> = ["Sequential", "Functional", "Model"]
    /// Models nested in models read at most this deep (a hostile config could nest without end).
    static let maxNestingDepth = 32

    /// Converts every layer (in dependency order) and declares the model outputs.
    mutating func build(_ spec: KerasModelSpec) throws -> Graph {
        inputOrder = spec.inputs.map(\.layer)
        try convertLayers(of: spec, depth: 0)
        for ref in spec.outputs {
            guard var value = tensors[ref] else {
                throw ModelPressError.invalidModel(
                    file: file, location: "model outputs", message: "output layer '\(ref.layer)' produced nothing",
                    hint: "re-save the model")
            }
            value = try channelsLast(value, layer: ref.layer)
            if graph.inputs.contains(where: { $0.name == value.name }) || graph.outputs.contains(where: { $0.name == value.name }) {
                value = try emit(.identity, [value.name], name: ref.layer + "/output", layer: ref.layer, channelsFirst: false)
            }
            graph.outputs.append(ValueInfo(name: value.name, shape: graph.shapes[value.name] ?? []))
        }
        dropUnreadNodes()
        return graph
    }

    /// Removes the nodes no output depends on (layout conversions a later layer did not need).
    private mutating func dropUnreadNodes() {
        var needed = Set(graph.outputs.map(\.name))
        var kept: [Node] = []
        for node in graph.nodes.reversed() where node.outputs.contains(where: needed.contains) {
            needed.formUnion(node.inputs)
            kept.append(node)
        }
        for node in graph.nodes where !node.outputs.contains(where: needed.contains) {
            for output in node.outputs { graph.shapes[output] = nil }
        }
        graph.nodes = kept.reversed()
    }

    /// Converts the layers of `spec` (whose names are already scoped) in dependency order;
    /// `depth` counts the models around it.
    private mutating func convertLayers(of spec: KerasModelSpec, depth: Int) throws {
        // Keras 2 numbers the calls of a nested model from 1 (its own construction is call 0).
        // (Sequential models chain their layers without recorded calls: no offset.)
        let nestedCallOffset = kerasMajor < 3 && spec.className != "Sequential" ? 1 : 0
        var pending = spec.layers
        while !pending.isEmpty {
            guard
                let index = pending.firstIndex(where: { layer in
                    layer.calls.allSatisfy { $0.allSatisfy { $0.tensor.map { tensors[$0] != nil } ?? true } }
                })
            else {
                let names = pending.map(\.path).joined(separator: ", ")
                throw ModelPressError.invalidModel(
                    file: file, location: "model '\(spec.name)'",
                    message: "layers \(names) read tensors no layer produces",
                    hint: "the model config is inconsistent; re-save the model")
            }
            let layer = pending.remove(at: index)
            if Self.modelClasses.contains(layer.className) {
                try convertNested(layer, depth: depth + 1, callOffset: nestedCallOffset)
            } else {
                try convert(layer, nested: depth > 0)
            }
        }
    }

    /// A model used as a layer: each call converts its layers again, named `<call>/<layer>`,
    /// with the weights of `<path>/<layer>` (a model called twice shares its weights: both calls
    /// read the same ones), and its outputs become the call's outputs.
    private mutating func convertNested(_ layer: KerasLayerSpec, depth: Int, callOffset: Int) throws {
        guard depth <= Self.maxNestingDepth else {
            throw ModelPressError.invalidModel(
                file: file, location: "layer '\(layer.path)' (\(layer.className))", message: "nests models more than \(Self.maxNestingDepth) deep",
                hint: "the model config is damaged or hostile; re-save the model")
        }
        let inner = try KerasModelSpec(className: layer.className, config: layer.config, file: file)
        for (callIndex, call) in layer.calls.enumerated() {
            let inputs = call.compactMap { $0.positional.flatMap { tensors[$0] } }
            guard inputs.count == inner.inputs.count else {
                throw ModelPressError.invalidModel(
                    file: file, location: "layer '\(layer.path)' (\(layer.className))",
                    message: "is called on \(inputs.count) tensor(s), and its model takes \(inner.inputs.count)",
                    hint: "the model config is inconsistent; re-save the model")
            }
            let callName = callIndex == 0 ? layer.name : "\(layer.name)_call\(callIndex)"
            let scoped = inner.scoped(name: callName, path: layer.pathComponents)
            for (ref, value) in zip(scoped.inputs, inputs) { tensors[ref] = value }
            try convertLayers(of: scoped, depth: depth)
            for (k, ref) in scoped.outputs.enumerated() {
                guard let value = tensors[ref] else {
                    throw ModelPressError.invalidModel(
                        file: file, location: "layer '\(layer.path)' (\(layer.className))", message: "its output layer '\(ref.layer)' produced nothing",
                        hint: "re-save the model")
                }
                tensors[KerasTensorRef(layer: layer.name, nodeIndex: callIndex + callOffset, tensorIndex: k)] = value
            }
        }
    }

    private mutating func convert(_ layer: KerasLayerSpec, nested: Bool) throws {
        let config = KerasConfig(json: layer.config, file: file, layer: layer.path, className: layer.className)
        layerPaths[layer.path] = layer.pathComponents
        try refuseUnsafe(layer)
        if layer.className == "InputLayer" {
            let ref = KerasTensorRef(layer: layer.name, nodeIndex: 0, tensorIndex: 0)
            guard tensors[ref] == nil else { return }  // a nested model's input, bound to its call's argument
            guard !nested else { throw config.fail("is an input of a nested model that its call does not feed") }
            tensors[ref] = try input(layer, config)
            return
        }
        guard !layer.calls.isEmpty else { return }  // defined but never called: not part of the graph
        for (callIndex, call) in layer.calls.enumerated() {
            let name = callIndex == 0 ? layer.name : "\(layer.name)_call\(callIndex)"
            let inputs = try call.enumerated().compactMap { k, argument -> KerasValue? in
                switch argument {
                case .tensor(let ref): return tensors[ref]
                case .number(let v): return KerasValue(name: try constant(Tensor(scalar: v), name: "\(name)/operand\(k)"), channelsFirst: false)
                case .keyword, .option: return nil
                }
            }
            callKeywords = [:]
            callOptions = [:]
            for argument in call {
                if case .keyword(let key, let ref) = argument { callKeywords[key] = tensors[ref] }
                if case .option(let key, let flag) = argument { callOptions[key] = flag }
            }
            let outputs = try convertCall(layer, config, inputs: inputs, name: name)
            try passMasks(layer, config, inputs: inputs, outputs: outputs)
            for (k, output) in outputs.enumerated() { tensors[KerasTensorRef(layer: layer.name, nodeIndex: callIndex, tensorIndex: k)] = output }
        }
    }

    /// Refuses layers that would need code from the checkpoint, and custom classes.
    private func refuseUnsafe(_ layer: KerasLayerSpec) throws {
        switch layer.className {
        case "Lambda", "SlicingOpLambda":
            throw ModelPressError.unsupportedLayer(
                file: file, layer: layer.path, className: layer.className,
                reason: "holds Python code, which ModelPress never executes.\nHINT: replace it with built-in Keras layers (e.g. Rescaling, Reshape, Activation) and re-save the model.")
        default:
            break
        }
        // Custom classes: `Package>Class` names, or registered outside the keras modules
        // (keras.applications' own classes excepted: they are decoded by name).
        if kerasApplicationClasses.contains(Self.applicationClassName(layer.className)) || Self.kerasHubClass(layer) != nil { return }
        let registered = layer.registeredName ?? layer.className
        let foreignModule = layer.module.map { !$0.hasPrefix("keras") } ?? false
        if layer.className.contains(">") || foreignModule || (registered != layer.className && !registered.hasPrefix("keras")) {
            throw ModelPressError.unsupportedLayer(
                file: file, layer: layer.path, className: registered,
                reason: "is a custom class; ModelPress runs only built-in Keras layers (and reads the keras-hub blocks "
                    + kerasHubConverters.keys.sorted().joined(separator: ", ")
                    + " by name) and never imports code.\nHINT: express the layer with built-in layers and re-save the model.")
        }
    }

    // MARK: - Helpers for layer converters

    /// Adds a node computing `op` on `inputs`; its output is named `name`.
    @discardableResult
    mutating func emit(_ op: Op, _ inputs: [String], name: String, layer: String, channelsFirst: Bool) throws -> KerasValue {
        KerasValue(name: try emit(op, inputs, names: [name], layer: layer)[0].name, channelsFirst: channelsFirst)
    }

    /// Adds a node computing `op` on `inputs`, with one output per name in `names` (distinct
    /// bases; the node is named after its first output). Outputs are channels-last values.
    mutating func emit(_ op: Op, _ inputs: [String], names: [String], layer: String) throws -> [KerasValue] {
        let outputs = names.map { graph.uniqueName($0) }
        do {
            try graph.append(Node(name: outputs[0], op: op, inputs: inputs, outputs: outputs, layer: layer))
        } catch let error as ModelPressError {
            throw error.attributed(to: file)
        }
        return outputs.map { KerasValue(name: $0, channelsFirst: false) }
    }

    /// Adds a constant and returns its name.
    mutating func constant(_ tensor: Tensor, name: String) throws -> String {
        let unique = graph.uniqueName(name)
        try graph.addInitializer(unique, tensor)
        return unique
    }

    /// Shape of a value as the IR stores it.
    func shape(_ value: KerasValue) -> [Int] { graph.shapes[value.name] ?? [] }

    /// Shape of a value as Keras sees it (channels-last).
    func kerasShape(_ value: KerasValue) -> [Int] {
        let s = shape(value)
        return value.channelsFirst ? [s[0], s[2], s[3], s[1]] : s
    }

    /// The value in NCHW (rank 4), transposing once per value if needed.
    mutating func channelsFirst(_ value: KerasValue, layer: String) throws -> KerasValue {
        guard !value.channelsFirst else { return value }
        guard shape(value).count == 4 else {
            throw ModelPressError.invalidModel(
                file: file, location: "layer '\(layer)'", message: "expects a 4-D image tensor, got shape \(shape(value))",
                hint: "ModelPress supports 2-D image layers on N×H×W×C tensors")
        }
        if let cached = layoutCache[value.name + "|nchw"] { return KerasValue(name: cached, channelsFirst: true) }
        let out = try emit(.transpose([0, 3, 1, 2]), [value.name], name: value.name + "/nchw", layer: layer, channelsFirst: true)
        layoutCache[value.name + "|nchw"] = out.name
        layoutCache[out.name + "|nhwc"] = value.name
        return out
    }

    /// The value as Keras sees it (channels-last), transposing once per value if needed.
    mutating func channelsLast(_ value: KerasValue, layer: String) throws -> KerasValue {
        guard value.channelsFirst else { return value }
        if let cached = layoutCache[value.name + "|nhwc"] { return KerasValue(name: cached, channelsFirst: false) }
        let out = try emit(.transpose([0, 2, 3, 1]), [value.name], name: value.name + "/nhwc", layer: layer, channelsFirst: false)
        layoutCache[value.name + "|nhwc"] = out.name
        layoutCache[out.name + "|nchw"] = value.name
        return out
    }

    /// The stored weights named `expected` of the layer whose path is shown as `layer` (held by
    /// `sublayer` inside it, if given).
    func weights(of layer: String, expected: [String], within sublayer: KerasSublayer? = nil) throws -> [String: Tensor] {
        try weights.weights(of: layerPaths[layer] ?? [layer], expected: expected, within: sublayer)
    }

    /// The weights `expected` of `layer` (held by `sublayer` inside it, if given), each checked
    /// against its expected shape.
    func loadWeights(_ layer: String, _ expected: [(String, [Int])], within sublayer: KerasSublayer? = nil) throws -> [String: Tensor] {
        let found = try weights(of: layer, expected: expected.map(\.0), within: sublayer)
        for (name, shape) in expected {
            guard let t = found[name], t.shape == shape else {
                throw ModelPressError.shapeMismatch(
                    file: file, location: "layer '\(layer)'", what: "weight '\(name)'",
                    expected: shape, actual: found[name]?.shape ?? [])
            }
        }
        return found
    }

    private mutating func input(_ layer: KerasLayerSpec, _ config: KerasConfig) throws -> KerasValue {
        guard let dims = config.shape("batch_shape") ?? config.shape("batch_input_shape") else {
            throw config.fail("has no batch_shape / batch_input_shape")
        }
        guard dims.count >= 2 else { throw config.fail("has input shape \(dims.map { $0.map(String.init) ?? "None" }) without per-sample axes") }
        // Unknown sizes (`None`: variable-length sequences) come from `--dim <input>.<axis>=SIZE` or the data.
        let position = inputOrder.firstIndex(of: layer.name) ?? 0
        var shape = [dynamicBatch]
        for (axis, dim) in dims.enumerated().dropFirst() {
            if let dim, dim > 0 {
                shape.append(dim)
                continue
            }
            guard let size = dimensions.size(symbol: "", input: layer.name, position: position, inputCount: inputOrder.count, axis: axis, rank: dims.count), (1...(1 << 24)).contains(size) else {
                throw config.fail(
                    "has input shape \(dims.map { $0.map(String.init) ?? "None" }) with an unknown size on axis \(axis)",
                    hint: "give the data it runs on (--data) or --dim \(layer.name).\(axis)=SIZE, or save the model with a fixed input shape")
            }
            shape.append(size)
        }
        // Token ids: Keras declares integer inputs by dtype (a string, or a DTypePolicy object in Keras 3).
        let dtype = config.json["dtype"]?.string ?? config.json["dtype"]?["config"]?["name"]?.string ?? "float32"
        let type: ElementType = dtype == "int64" ? .int64 : dtype.hasPrefix("int") || dtype.hasPrefix("uint") ? .int32 : .float32
        try graph.addInput(ValueInfo(name: layer.name, shape: shape, elementType: type))
        return KerasValue(name: layer.name, channelsFirst: false)
    }
}
