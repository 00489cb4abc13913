import TensorCore

/// Converts one call of a Keras layer: `(builder, layer, config, inputs, node name) → output`.
typealias KerasLayerConverter = @Sendable (inout KerasGraphBuilder, KerasLayerSpec, KerasConfig, [KerasValue], String) throws -> KerasValue

/// The one input of a single-input layer call.
private func single(_ inputs: [KerasValue], _ config: KerasConfig) throws -> KerasValue {
    guard inputs.count == 1, let x = inputs.first else { throw config.fail("expects one input, got \(inputs.count)") }
    return x
}

/// Every built-in Keras layer ModelPress converts, by class name: the one table (anything
/// else is refused by name, and the refusal lists these keys).
let kerasLayerConverters: [String: KerasLayerConverter] = [
    "Dense": { b, _, c, x, n in try b.dense(try single(x, c), c, name: n) },
    "Conv2D": { b, _, c, x, n in try b.conv2D(try single(x, c), c, name: n) },
    "Embedding": { b, _, c, x, n in try b.embeddingLayer(try single(x, c), c, name: n) },
    "ZeroPadding1D": { b, _, c, x, n in try b.resize1D(try single(x, c), c, name: n) },
    "Cropping1D": { b, _, c, x, n in try b.resize1D(try single(x, c), c, name: n) },
    "UpSampling1D": { b, _, c, x, n in try b.resize1D(try single(x, c), c, name: n) },
    "Conv1D": { b, _, c, x, n in try b.conv1D(try single(x, c), c, name: n) },
    "TimeDistributed": { b, _, c, x, n in try b.timeDistributed(try single(x, c), c, name: n) },
    "MaxPooling1D": { b, _, c, x, n in try b.pooling1D(try single(x, c), c, name: n, max: true) },
    "AveragePooling1D": { b, _, c, x, n in try b.pooling1D(try single(x, c), c, name: n, max: false) },
    "GlobalAveragePooling1D": { b, _, c, x, n in
        let input = try single(x, c)
        if let mask = try b.stepMask(for: input, c) { return try b.maskedAveragePooling1D(input, mask: mask, c, name: n) }
        return try b.globalPooling1D(input, c, name: n, max: false)
    },
    "Masking": { b, _, c, x, n in try b.masking(try single(x, c), c, name: n) },
    "GlobalMaxPooling1D": { b, _, c, x, n in try b.globalPooling1D(try single(x, c), c, name: n, max: true) },
    "Conv2DTranspose": { b, _, c, x, n in try b.conv2DTranspose(try single(x, c), c, name: n) },
    "DepthwiseConv2D": { b, _, c, x, n in try b.depthwiseConv2D(try single(x, c), c, name: n) },
    "SeparableConv2D": { b, _, c, x, n in try b.separableConv2D(try single(x, c), c, name: n) },
    "BatchNormalization": { b, _, c, x, n in try b.batchNormalization(try single(x, c), c, name: n) },
    "LayerNormalization": { b, _, c, x, n in try b.layerNormalization(try single(x, c), c, name: n) },
    "MultiHeadAttention": { b, _, c, x, n in try b.multiHeadAttention(x, c, name: n) },
    "Activation": { b, _, c, x, n in
        let named = try c.string("activation", default: "linear")
        return try b.elementwiseLayer(try single(x, c), c, name: n) { b, x, n in try b.activation(x, named: named, c, name: n) }
    },
    "ReLU": { b, _, c, x, n in try b.elementwiseLayer(try single(x, c), c, name: n) { b, x, n in try b.reluLayer(x, c, name: n) } },
    "LeakyReLU": { b, _, c, x, n in
        let alpha = try c.optionalFloat("negative_slope") ?? c.optionalFloat("alpha") ?? 0.3
        return try b.elementwiseLayer(try single(x, c), c, name: n) { b, x, n in try b.unaryCall(.leakyRelu(alpha: alpha), [x], c, name: n) }
    },
    "ELU": { b, _, c, x, n in
        let alpha = try c.float("alpha", default: 1)
        return try b.elementwiseLayer(try single(x, c), c, name: n) { b, x, n in try b.unaryCall(.elu(alpha: alpha), [x], c, name: n) }
    },
    "PReLU": { b, _, c, x, n in try b.prelu(try single(x, c), c, name: n) },
    "Softmax": { b, _, c, x, n in try b.softmaxLayer(try single(x, c), c, name: n) },
    "MaxPooling2D": { b, _, c, x, n in try b.pooling(try single(x, c), c, name: n, max: true) },
    "AveragePooling2D": { b, _, c, x, n in try b.pooling(try single(x, c), c, name: n, max: false) },
    "GlobalAveragePooling2D": { b, _, c, x, n in try b.globalPooling(try single(x, c), c, name: n, max: false) },
    "GlobalMaxPooling2D": { b, _, c, x, n in try b.globalPooling(try single(x, c), c, name: n, max: true) },
    "Flatten": { b, _, c, x, n in try b.flatten(try single(x, c), c, name: n) },
    "Reshape": { b, _, c, x, n in try b.reshape(try single(x, c), c, name: n) },
    "Permute": { b, _, c, x, n in try b.permute(try single(x, c), c, name: n) },
    // Inference: identities.
    "Dropout": { _, _, c, x, _ in try single(x, c) },
    "SpatialDropout2D": { _, _, c, x, _ in try single(x, c) },
    "GaussianNoise": { _, _, c, x, _ in try single(x, c) },
    "GaussianDropout": { _, _, c, x, _ in try single(x, c) },
    "AlphaDropout": { _, _, c, x, _ in try single(x, c) },
    "ActivityRegularization": { _, _, c, x, _ in try single(x, c) },
    // ConvNeXt's drop-path: the identity at inference.
    "StochasticDepth": { _, _, c, x, _ in try single(x, c) },
    "LayerScale": { b, _, c, x, n in try b.layerScale(try single(x, c), c, name: n) },
    "CustomScaleLayer": { b, _, c, x, n in try b.customScale(x, c, name: n) },
    "Add": { b, l, c, x, n in try b.merge(x, l.className, c, name: n) },
    "Subtract": { b, l, c, x, n in try b.merge(x, l.className, c, name: n) },
    "Multiply": { b, l, c, x, n in try b.merge(x, l.className, c, name: n) },
    "Average": { b, l, c, x, n in try b.merge(x, l.className, c, name: n) },
    "Maximum": { b, l, c, x, n in try b.merge(x, l.className, c, name: n) },
    "Minimum": { b, l, c, x, n in try b.merge(x, l.className, c, name: n) },
    "Concatenate": { b, _, c, x, n in try b.concatenate(x, c, name: n) },
    "TFOpLambda": { b, _, c, x, n in try b.tfOpLambda(x, c, name: n) },
    "ZeroPadding2D": { b, _, c, x, n in try b.zeroPadding(try single(x, c), c, name: n) },
    "Cropping2D": { b, _, c, x, n in try b.cropping(try single(x, c), c, name: n) },
    "UpSampling2D": { b, _, c, x, n in try b.upSampling(try single(x, c), c, name: n) },
    "Rescaling": { b, _, c, x, n in try b.rescaling(try single(x, c), c, name: n) },
    "Normalization": { b, _, c, x, n in try b.normalization(try single(x, c), c, name: n) },
]

/// Classes keras.applications defines for its own models (tf-keras saves them as
/// `Custom>Name`): converted by name like built-in layers, never by running their code.
let kerasApplicationClasses: Set<String> = ["CustomScaleLayer", "LayerScale", "StochasticDepth"]

/// Converts one call of a Keras layer with several outputs: `(builder, layer, config, inputs, node name) → outputs`.
typealias KerasMultiOutputConverter = @Sendable (inout KerasGraphBuilder, KerasLayerSpec, KerasConfig, [KerasValue], String) throws -> [KerasValue]

/// Built-in Keras layers whose calls may return several tensors (recurrent layers with
/// `return_state`), by class name.
let kerasMultiOutputConverters: [String: KerasMultiOutputConverter] = [
    "SimpleRNN": { b, _, c, x, n in try b.recurrentLayer(try single(x, c), c, name: n) },
    "LSTM": { b, _, c, x, n in try b.recurrentLayer(try single(x, c), c, name: n) },
    "GRU": { b, _, c, x, n in try b.recurrentLayer(try single(x, c), c, name: n) },
    "Bidirectional": { b, _, c, x, n in try b.bidirectional(try single(x, c), c, name: n) },
]

/// Built-in Keras layers ModelPress converts (the tables' keys, plus `InputLayer`).
let supportedKerasLayers: Set<String> = Set(kerasLayerConverters.keys).union(kerasMultiOutputConverters.keys).union(["InputLayer"])

extension KerasGraphBuilder {
    /// Converts one call of a layer on `inputs` to IR nodes; returns its output values (one per
    /// Keras output: a recurrent layer with `return_state` has several).
    mutating func convertCall(_ layer: KerasLayerSpec, _ config: KerasConfig, inputs: [KerasValue], name: String) throws -> [KerasValue] {
        try checkChannelsLast(config)
        if Self.isOperation(layer) {
            guard let convert = kerasOperationConverters[layer.className] else {
                let list = kerasOperationConverters.keys.sorted().joined(separator: ", ")
                throw ModelPressError.unsupportedLayer(
                    file: file, layer: layer.path, className: "\(layer.module ?? "keras.ops").\(layer.className)",
                    reason: "is a Keras operation ModelPress does not decode (it decodes \(list)).\nHINT: express it with Keras layers or the operations above and re-save the model.")
            }
            return [try convert(&self, layer, config, inputs, name)]
        }
        if let convert = kerasMultiOutputConverters[layer.className] { return try convert(&self, layer, config, inputs, name) }
        if let hub = Self.kerasHubClass(layer), let convert = kerasHubConverters[hub] { return [try convert(&self, layer, config, inputs, name)] }
        guard let convert = kerasLayerConverters[Self.applicationClassName(layer.className)] else {
            let list = supportedKerasLayers.sorted().joined(separator: ", ")
            throw ModelPressError.unsupportedLayer(
                file: file, layer: layer.path, className: layer.className,
                reason: "is not supported by ModelPress.\nHINT: supported layers are: \(list). Replace the layer or open an issue with the model.")
        }
        return [try convert(&self, layer, config, inputs, name)]
    }

    /// A keras.applications class saved by tf-keras as `Custom>Name` → `Name`; others unchanged.
    static func applicationClassName(_ className: String) -> String {
        let name = className.hasPrefix("Custom>") ? String(className.dropFirst("Custom>".count)) : className
        return kerasApplicationClasses.contains(name) ? name : className
    }

    /// ModelPress reads channels-last models (the Keras default); refuse channels_first configs.
    private func checkChannelsLast(_ config: KerasConfig) throws {
        let format = try config.string("data_format", default: "channels_last")
        guard format == "channels_last" else {
            throw config.fail("uses data_format '\(format)'", hint: "save the model with channels_last (the Keras default)")
        }
    }
}
