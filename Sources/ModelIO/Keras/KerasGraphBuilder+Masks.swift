import TensorCore

/// Keras masks (`Embedding(mask_zero=True)`, `Masking`): each is an IR value N×L of 0/1 that
/// travels with the tensor it belongs to (`masks`), as Keras's `compute_mask` passes it on.
/// A layer either passes its input's mask on unchanged, drops it (Keras 3 layers that do not
/// support masking), or reads it in its converter; a mask reaching any other layer is refused.
extension KerasGraphBuilder {
    /// Layers that pass their first input's mask on unchanged and do not read it (Keras 3
    /// `supports_masking` with the default `compute_mask`; `TimeDistributed` runs per step).
    static let maskPassingLayers: Set<String> = [
        "Dense", "BatchNormalization", "LayerNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Dropout", "SpatialDropout1D",
        "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Rescaling", "Normalization", "TimeDistributed",
    ]
    /// Layers that drop a mask (Keras 3 warns that they destroy it; Keras 2 refuses to build).
    static let maskDroppingLayers: Set<String> = [
        "Conv1D", "Flatten", "Reshape", "Permute", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D", "ZeroPadding1D", "Cropping1D",
        "UpSampling1D", "Embedding", "PositionEmbedding", "SinePositionEncoding",
    ]
    /// Layers whose converters read masks and set their outputs' masks themselves.
    static let maskReadingLayers: Set<String> = [
        "Masking", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "GlobalAveragePooling1D", "MultiHeadAttention", "Add", "Subtract", "Multiply",
        "Average", "Maximum", "Minimum", "Concatenate", "TransformerEncoder", "TransformerDecoder", "TokenAndPositionEmbedding",
    ]

    /// The mask of `value`, if it has one.
    func mask(of value: KerasValue?) -> String? { value.flatMap { masks[$0.name] } }

    /// The step mask a layer that takes `mask=` applies to `sequence` N×L×…: the one the call
    /// passes (Keras 3 records it), else the one travelling with the sequence; checked N×L.
    func stepMask(for sequence: KerasValue, _ config: KerasConfig) throws -> String? {
        guard let given = callKeywords["mask"]?.name ?? masks[sequence.name] else { return nil }
        let s = shape(sequence), m = graph.shapes[given] ?? []
        guard s.count >= 2, m == Array(s.prefix(2)) else {
            throw config.fail("is given a mask of \(m.dropFirst().map(String.init).joined(separator: "×")) for a sequence of \(kerasShape(sequence)); it needs one value per step")
        }
        return given
    }

    /// The step mask of `input` (`StepMask(value)`), built once per input and value.
    mutating func stepMask(of input: String, value: Float, _ config: KerasConfig, name: String) throws -> String {
        let key = "\(input)|\(value)"
        if let built = stepMasks[key] { return built }
        let m = try emit(.stepMask(StepMask(value: value)), [input], name: name, layer: config.layer, channelsFirst: false).name
        stepMasks[key] = m
        return m
    }

    /// Keras 3 `NotEqual(x, number)`, which it records to build masks: of ids N×L, the step
    /// mask; of a sequence N×L×F, the mask reduced over the features, for the `Any(axis=-1)`
    /// that reads it (anything else reading it is refused).
    mutating func notEqualCall(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard inputs.count == 2, let value = graph.initializers[inputs[1].name], value.count == 1 else {
            throw config.fail("compares with something other than a number; ModelPress reads not_equal only as Keras's masks build it")
        }
        let x = try channelsLast(inputs[0], layer: config.layer)
        guard [2, 3].contains(shape(x).count) else { throw config.fail("compares a tensor of \(kerasShape(x)); ModelPress reads not_equal of ids or sequences") }
        let m = try stepMask(of: x.name, value: value.storage[0], config, name: name)
        if shape(x).count == 3 { featureReducedMasks.insert(m) }
        return KerasValue(name: m, channelsFirst: false)
    }

    /// Keras 3 `Any(axis=-1)` of a `NotEqual` of a sequence: that step mask.
    func anyCall(_ x: KerasValue, _ config: KerasConfig) throws -> KerasValue {
        let axis = config.json["axis"]?.int ?? config.json["axis"]?.array?.first?.int
        guard featureReducedMasks.contains(x.name), axis == -1 || axis == 2, try !config.bool("keepdims", default: false) else {
            throw config.fail("reduces with any() other than over the features of not_equal(sequence, value), which ModelPress reads as a mask")
        }
        return x
    }

    /// After converting a call of `layer` on `inputs` to `outputs`: the outputs' masks by the
    /// layer's rule; a mask reaching a layer that would read it in a way ModelPress does not
    /// model is refused, naming the layer.
    mutating func passMasks(_ layer: KerasLayerSpec, _ config: KerasConfig, inputs: [KerasValue], outputs: [KerasValue]) throws {
        let isAny = Self.isOperation(layer) && layer.className == "Any"
        if !isAny, let read = inputs.first(where: { featureReducedMasks.contains($0.name) }) {
            throw config.fail("reads '\(read.name)', a comparison ModelPress reads only as Keras's Masking builds it (with any() over the features)")
        }
        let received = inputs.compactMap(mask(of:)) + callKeywords.values.compactMap(mask(of:))
        guard !received.isEmpty, !Self.isOperation(layer) else { return }  // Keras operations drop masks
        let className = Self.kerasHubClass(layer) ?? Self.applicationClassName(layer.className)
        if Self.maskReadingLayers.contains(className) || Self.maskDroppingLayers.contains(className) { return }
        guard Self.maskPassingLayers.contains(className), let first = inputs.first, let output = outputs.first else {
            throw ModelPressError.unsupportedLayer(
                file: file, layer: config.layer, className: layer.className,
                reason: "receives a mask (from Embedding mask_zero or Masking), and ModelPress does not know how \(layer.className) uses it.\n"
                    + "HINT: layers that carry masks here are \(Self.maskPassingLayers.union(Self.maskReadingLayers).sorted().joined(separator: ", ")); "
                    + "or re-save the model without mask_zero / Masking.")
        }
        if let m = mask(of: first), masks[output.name] == nil { masks[output.name] = m }
    }

    /// Keras merges (Add … Minimum): the mask is the OR of the inputs' masks when every input
    /// has one, else none. Concatenate along the features: the AND of those present.
    mutating func mergeMasks(_ inputs: [KerasValue], into output: KerasValue, and: Bool, _ config: KerasConfig) throws {
        let present = inputs.compactMap(mask(of:))
        guard !present.isEmpty, and || present.count == inputs.count else { return }
        let unique = present.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        masks[output.name] =
            unique.count == 1
            ? unique[0] : try emit(.elementwise(and ? .multiply : .maximum), unique, name: output.name + "/mask", layer: config.layer, channelsFirst: false).name
    }

    /// `mask` N×L as N×L×1 (to scale a sequence's features).
    mutating func maskColumn(_ mask: String, _ config: KerasConfig, name: String) throws -> String {
        guard let steps = graph.shapes[mask]?.last else { throw config.fail("has a mask without a shape") }
        return try emit(.reshape([steps, 1]), [mask], name: name, layer: config.layer, channelsFirst: false).name
    }

    /// Masking: steps whose features all equal `mask_value` become zero and are masked.
    mutating func masking(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        let sequence = try channelsLast(x, layer: config.layer)
        guard shape(sequence).count == 3 else { throw config.fail("expects a sequence N×steps×features, got \(kerasShape(sequence))") }
        let value = try config.float("mask_value", default: 0)
        let m = try stepMask(of: sequence.name, value: value, config, name: name + "/mask")
        let output = try emit(.elementwise(.multiply), [sequence.name, try maskColumn(m, config, name: name + "/mask_column")], name: name, layer: config.layer, channelsFirst: false)
        masks[output.name] = m
        return output
    }

    /// GlobalAveragePooling1D over the kept steps of a masked sequence: Σ x·m / Σ m (Keras's
    /// formula; a sequence with no kept step gives NaN there as in Keras).
    mutating func maskedAveragePooling1D(_ x: KerasValue, mask: String, _ config: KerasConfig, name: String) throws -> KerasValue {
        let sequence = try channelsLast(x, layer: config.layer)
        let column = try maskColumn(mask, config, name: name + "/mask_column")
        let kept = try emit(.elementwise(.multiply), [sequence.name, column], name: name + "/kept", layer: config.layer, channelsFirst: false)
        let keep = try config.bool("keepdims", default: false)
        let sum = try emit(.reduceMean(ReduceMean(axes: [1], keepDims: keep)), [kept.name], name: name + "/mean", layer: config.layer, channelsFirst: false)
        let share = try emit(.reduceMean(ReduceMean(axes: [1], keepDims: keep)), [column], name: name + "/kept_share", layer: config.layer, channelsFirst: false)
        return try emit(.elementwise(.divide), [sum.name, share.name], name: name, layer: config.layer, channelsFirst: false)
    }
}
