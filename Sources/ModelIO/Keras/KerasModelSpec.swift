import TensorCore

/// One tensor in a Keras model: output `tensorIndex` of call `nodeIndex` of layer `layer`.
struct KerasTensorRef: Hashable {
    var layer: String
    var nodeIndex: Int
    var tensorIndex: Int
}

/// One argument of a layer call: a tensor, or a number written into the call (Keras 3 saves
/// `x + 3.0` as an `Add` layer called on `[x, 3.0]`).
enum KerasArgument: Hashable {
    case tensor(KerasTensorRef)
    case number(Float)
    /// A tensor passed by keyword (`value=`, `attention_mask=`).
    case keyword(String, KerasTensorRef)
    /// A boolean passed by keyword (`use_causal_mask=True`).
    case option(String, Bool)

    /// The tensor the argument reads (positional or keyword), if any: what the call depends on.
    var tensor: KerasTensorRef? {
        switch self {
        case .tensor(let ref), .keyword(_, let ref): ref
        case .number, .option: nil
        }
    }

    /// The tensor, if this is a positional tensor argument.
    var positional: KerasTensorRef? {
        if case .tensor(let ref) = self { return ref }
        return nil
    }

    /// The argument with its tensor reference (if any) rewritten by `f`.
    func mapTensor(_ f: (KerasTensorRef) -> KerasTensorRef) -> KerasArgument {
        switch self {
        case .tensor(let ref): .tensor(f(ref))
        case .keyword(let key, let ref): .keyword(key, f(ref))
        case .number, .option: self
        }
    }
}

/// One layer of a Keras model config, normalised across Keras 2 and Keras 3 layouts.
struct KerasLayerSpec {
    /// Layer class, e.g. `Conv2D`.
    var className: String
    /// Unique layer name (inside a nested model, prefixed by the call's path: `base/conv`, `enc_call1/conv`).
    var name: String
    /// The models that hold the layer, then its name (`["base", "conv"]`), the same for every
    /// call: what its weights are found by.
    var pathComponents: [String]
    /// The path as shown (`base/conv`): what IR nodes' `layer` and messages name.
    var path: String { pathComponents.joined(separator: "/") }
    /// The layer's `config` object.
    var config: JSONValue
    /// Keras 3 `registered_name` / `module` (custom classes are registered under other modules).
    var registeredName: String?
    var module: String?
    /// Each call of the layer: the tensors (and numbers) it was called on, in argument order.
    var calls: [[KerasArgument]]
}

/// A Keras model config (`model_config` attribute, `config.json` or `model.to_json()`),
/// in a form independent of the Keras version that wrote it.
struct KerasModelSpec {
    var name: String
    var className: String
    var layers: [KerasLayerSpec]
    var inputs: [KerasTensorRef]
    var outputs: [KerasTensorRef]

    /// Parses the JSON text of a model config; `file` names the source in errors.
    init(json text: String, file: String) throws {
        let root: JSONValue
        do { root = try JSONValue.parse(text) } catch {
            throw ModelPressError.invalidModel(
                file: file, location: "model config", message: "is not valid JSON (\(error))",
                hint: "the file may be damaged; re-save the model")
        }
        // model.to_json() / config.json / model_config all hold {"class_name", "config"}.
        guard let className = root["class_name"]?.string, let config = root["config"] else {
            throw ModelPressError.invalidModel(
                file: file, location: "model config", message: "has no class_name/config",
                hint: "pass a Keras model saved with model.save() or model.to_json()")
        }
        try self.init(className: className, config: config, file: file)
    }

    /// The model whose class is `className` and whose `config` object is `config` (a whole
    /// model, or a model nested in another as a layer).
    init(className: String, config: JSONValue, file: String) throws {
        self.className = className
        self.name = config["name"]?.string ?? "model"
        guard let layerList = config["layers"]?.array else {
            throw ModelPressError.invalidModel(
                file: file, location: "model '\(name)' (\(className))",
                message: "is not a Sequential or Functional model (no layer list)",
                hint: "subclassed models cannot be read; rebuild the model with the Functional API")
        }
        var layers = try layerList.enumerated().map { i, layer in try Self.parseLayer(layer, index: i, file: file) }
        if className == "Sequential" {
            (layers, inputs, outputs) = try Self.chainSequential(layers, config: config, file: file)
        } else {
            inputs = try Self.parseEndpoints(config["input_layers"], file: file, what: "input_layers")
            outputs = try Self.parseEndpoints(config["output_layers"], file: file, what: "output_layers")
        }
        self.layers = layers
    }

    private static func parseLayer(_ layer: JSONValue, index: Int, file: String) throws -> KerasLayerSpec {
        guard let className = layer["class_name"]?.string, let config = layer["config"] else {
            throw ModelPressError.invalidModel(
                file: file, location: "layer #\(index)", message: "has no class_name/config",
                hint: "re-save the model with Keras")
        }
        let name = layer["name"]?.string ?? config["name"]?.string ?? "layer_\(index)"
        var calls: [[KerasArgument]] = []
        for node in layer["inbound_nodes"]?.array ?? [] {
            calls.append(try parseCall(node, layer: name, file: file))
        }
        return KerasLayerSpec(
            className: className, name: name, pathComponents: [name], config: config,
            registeredName: layer["registered_name"]?.string, module: layer["module"]?.string, calls: calls)
    }

    /// One inbound node: Keras 2 `[[name, node, tensor, kwargs], …]` (tf-keras writes a
    /// `TFOpLambda` call flat: `[name, node, tensor, kwargs]`) or Keras 3
    /// `{"args": […__keras_tensor__…], "kwargs": {…}}`. A Keras 2 call's operand `y` in kwargs
    /// (`x + 3.0` as `tf.__operators__.add` with `{"y": 3.0}`) follows its tensors.
    private static func parseCall(_ node: JSONValue, layer: String, file: String) throws -> [KerasArgument] {
        if let args = node["args"] {
            var arguments: [KerasArgument] = []
            collectKeras3Arguments(args, into: &arguments)
            for (key, value) in (node["kwargs"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
                var keyword: [KerasArgument] = []
                collectKeras3Arguments(value, into: &keyword)
                if keyword.count == 1, let ref = keyword[0].positional { arguments.append(.keyword(key, ref)) }
                if let flag = value.bool { arguments.append(.option(key, flag)) }
            }
            return arguments
        }
        let unreadable = ModelPressError.invalidModel(
            file: file, location: "layer '\(layer)'", message: "has an unreadable inbound node", hint: "re-save the model with Keras")
        guard let list = node.array else { throw unreadable }
        let entries = list.first?.string != nil ? [node] : list
        var arguments: [KerasArgument] = []
        for entry in entries {
            guard let e = entry.array, e.count >= 3, let ref = tensorRef(entry) else { throw unreadable }
            arguments.append(.tensor(ref))
            switch e.count > 3 ? e[3]["y"] : nil {
            case .number(let v)?: arguments.append(.number(Float(v)))
            case let y? where tensorRef(y) != nil: arguments.append(.tensor(tensorRef(y)!))
            default: break
            }
            for (key, value) in (e.count > 3 ? e[3].object ?? [:] : [:]).sorted(by: { $0.key < $1.key }) where key != "y" {
                if let ref = tensorRef(value) { arguments.append(.keyword(key, ref)) }
                if let flag = value.bool { arguments.append(.option(key, flag)) }
            }
        }
        return arguments
    }

    /// `[name, node, tensor, …]` as a tensor reference.
    private static func tensorRef(_ value: JSONValue) -> KerasTensorRef? {
        guard let e = value.array, e.count >= 3, let n = e[0].string, let ni = e[1].int, let ti = e[2].int else { return nil }
        return KerasTensorRef(layer: n, nodeIndex: ni, tensorIndex: ti)
    }

    /// The tensors and numbers of a Keras 3 call's `args`, in order (nested lists flattened).
    private static func collectKeras3Arguments(_ value: JSONValue, into arguments: inout [KerasArgument]) {
        switch value {
        case .array(let items): items.forEach { collectKeras3Arguments($0, into: &arguments) }
        case .object(let o):
            if o["class_name"]?.string == "__keras_tensor__", let h = o["config"]?["keras_history"]?.array, h.count >= 3,
                let n = h[0].string, let ni = h[1].int, let ti = h[2].int
            {
                arguments.append(.tensor(KerasTensorRef(layer: n, nodeIndex: ni, tensorIndex: ti)))
            }
        case .number(let v): arguments.append(.number(Float(v)))
        default: break
        }
    }

    /// `input_layers` / `output_layers`: `[[name, node, tensor], …]`, or Keras 3's flat
    /// `[name, node, tensor]` for a single endpoint.
    private static func parseEndpoints(_ value: JSONValue?, file: String, what: String) throws -> [KerasTensorRef] {
        guard let list = value?.array, !list.isEmpty else {
            throw ModelPressError.invalidModel(
                file: file, location: "model config", message: "has no \(what)",
                hint: "re-save the model with Keras")
        }
        let entries = list[0].string != nil ? [JSONValue.array(list)] : list
        return try entries.map { entry in
            guard let e = entry.array, e.count >= 3, let n = e[0].string, let ni = e[1].int, let ti = e[2].int else {
                throw ModelPressError.invalidModel(
                    file: file, location: "model config", message: "has an unreadable \(what) entry",
                    hint: "re-save the model with Keras")
            }
            return KerasTensorRef(layer: n, nodeIndex: ni, tensorIndex: ti)
        }
    }

    /// Sequential models list layers without inbound nodes: chain them, adding an input
    /// layer from `batch_input_shape` / `batch_shape` / `build_input_shape` when missing.
    private static func chainSequential(_ layers: [KerasLayerSpec], config: JSONValue, file: String)
        throws -> ([KerasLayerSpec], [KerasTensorRef], [KerasTensorRef])
    {
        var chained = layers
        if chained.first?.className != "InputLayer" {
            let first = chained.first?.config
            guard let shape = first?["batch_input_shape"] ?? first?["batch_shape"] ?? config["build_input_shape"] else {
                throw ModelPressError.invalidModel(
                    file: file, location: "Sequential model", message: "has no input shape",
                    hint: "build the model with an Input layer (keras.Input(shape=…)) before saving")
            }
            let input = KerasLayerSpec(
                className: "InputLayer", name: "input", pathComponents: ["input"], config: .object(["batch_shape": shape]),
                registeredName: nil, module: nil, calls: [])
            chained.insert(input, at: 0)
        }
        for i in chained.indices {
            chained[i].calls = i == 0 ? [] : [[.tensor(KerasTensorRef(layer: chained[i - 1].name, nodeIndex: 0, tensorIndex: 0))]]
        }
        guard let last = chained.last else {
            throw ModelPressError.invalidModel(file: file, location: "Sequential model", message: "has no layers", hint: "save a built model")
        }
        return (
            chained, [KerasTensorRef(layer: chained[0].name, nodeIndex: 0, tensorIndex: 0)],
            [KerasTensorRef(layer: last.name, nodeIndex: 0, tensorIndex: 0)]
        )
    }
}

extension KerasModelSpec {
    /// The same model as called inside another: every layer and tensor name prefixed with
    /// `name/` (unique per call), every layer path with `path` (shared by all calls).
    func scoped(name prefix: String, path: [String]) -> KerasModelSpec {
        func ref(_ r: KerasTensorRef) -> KerasTensorRef { KerasTensorRef(layer: prefix + "/" + r.layer, nodeIndex: r.nodeIndex, tensorIndex: r.tensorIndex) }
        var copy = self
        copy.layers = layers.map { layer in
            var l = layer
            l.name = prefix + "/" + layer.name
            l.pathComponents = path + layer.pathComponents
            l.calls = layer.calls.map { call in call.map { $0.mapTensor(ref) } }
            return l
        }
        copy.inputs = inputs.map(ref)
        copy.outputs = outputs.map(ref)
        return copy
    }
}
