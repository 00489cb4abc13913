import Foundation
import TensorCore

/// The keras-hub building blocks users put in their own models, read by their registered names
/// (`keras_hub>TransformerEncoder`) from config and weights — never by importing keras-hub — as
/// the IR ops keras-hub's `call` computes (keras-hub 0.32).
let kerasHubConverters: [String: KerasLayerConverter] = [
    "TransformerEncoder": { b, _, c, x, n in try b.transformerEncoder(x, c, name: n) },
    "TransformerDecoder": { b, _, c, x, n in try b.transformerDecoder(x, c, name: n) },
    "TokenAndPositionEmbedding": { b, _, c, x, n in try b.tokenAndPositionEmbedding(x, c, name: n) },
    "PositionEmbedding": { b, _, c, x, n in try b.positionEmbedding(x, c, name: n) },
    "SinePositionEncoding": { b, _, c, x, n in try b.sinePositionEncoding(x, c, name: n) },
]

extension KerasGraphBuilder {
    /// The keras-hub class a layer entry names (`TransformerEncoder`), when it is one ModelPress
    /// reads: registered as `keras_hub>Name` (the class name in a Keras 3 `.h5`), from a
    /// `keras_hub.` module when one is recorded.
    static func kerasHubClass(_ layer: KerasLayerSpec) -> String? {
        let registered = [layer.registeredName, layer.className].compactMap { $0 }.first { $0.hasPrefix("keras_hub>") }
        guard let name = registered.map({ String($0.dropFirst("keras_hub>".count)) }), kerasHubConverters[name] != nil,
            layer.module.map({ $0.hasPrefix("keras_hub.") }) ?? true
        else { return nil }
        return name
    }

    /// keras-hub TransformerEncoder: self-attention (`num_heads`, key size hidden/heads) with
    /// the residual, LayerNormalization after (or, with `normalize_first`, before) each half, and
    /// the feed-forward Dense(`intermediate_dim`, `activation`) → Dense(hidden). Masks as
    /// keras-hub applies them: the input's Keras mask (or `padding_mask=`) as a key mask, ANDed
    /// with `attention_mask=`, and — Keras 3 filling in MultiHeadAttention's own masks — as query
    /// and value masks; the output keeps the input's mask.
    mutating func transformerEncoder(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard inputs.count == 1, let input = inputs.first else { throw config.fail("expects one input, got \(inputs.count)") }
        let x = try channelsLast(input, layer: config.layer)
        let inputMask = mask(of: input)
        var masks = AttentionMasks(attention: callKeywords["attention_mask"])
        masks.query = inputMask
        masks.value = callKeywords["padding_mask"]?.name ?? inputMask
        let output = try transformerBlock(x, config, selfMasks: masks, cross: nil, legacyAttention: "self_attention_layer", name: name)
        if let inputMask { self.masks[output.name] = inputMask }
        // Keras 3's MultiHeadAttention removes the mask of the tensor it attended over: the input itself, unless normalized first.
        if try !config.bool("normalize_first", default: false) { self.masks[input.name] = nil }
        return output
    }

    /// keras-hub TransformerDecoder on `[decoder_sequence, encoder_sequence?]` (or
    /// `encoder_sequence=`): causal self-attention (`use_causal_mask`, default true), then
    /// cross-attention onto the encoder sequence when the layer was built with one, then the
    /// feed-forward block; residuals and LayerNormalization as in the encoder. Masks: each
    /// sequence's Keras mask (or `decoder_padding_mask=` / `encoder_padding_mask=`) as a key
    /// mask, ANDed with `decoder_attention_mask=` / `encoder_attention_mask=`.
    mutating func transformerDecoder(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard let input = inputs.first, inputs.count <= 2 else { throw config.fail("expects a decoder sequence and an optional encoder sequence") }
        let encoder = inputs.count > 1 ? inputs[1] : callKeywords["encoder_sequence"]
        let built = config.json["encoder_sequence_shape"].map { !$0.isNull } ?? false
        guard (encoder != nil) == built else {
            throw config.fail(
                encoder == nil ? "was built for cross-attention and is called without an encoder sequence" : "was built without cross-attention and is called with an encoder sequence")
        }
        let x = try channelsLast(input, layer: config.layer)
        var masks = AttentionMasks(attention: callKeywords["decoder_attention_mask"], causal: callOptions["use_causal_mask"] ?? true)
        masks.value = callKeywords["decoder_padding_mask"]?.name ?? mask(of: input)
        var cross: (KerasValue, AttentionMasks)?
        if let encoder {
            var crossMasks = AttentionMasks(attention: callKeywords["encoder_attention_mask"])
            crossMasks.value = callKeywords["encoder_padding_mask"]?.name ?? mask(of: encoder)
            cross = (try channelsLast(encoder, layer: config.layer), crossMasks)
        }
        let output = try transformerBlock(x, config, selfMasks: masks, cross: cross, legacyAttention: "self_attention", name: name)
        if let inputMask = mask(of: input) { self.masks[output.name] = inputMask }
        return output
    }

    /// The encoder / decoder block: self-attention, optional cross-attention, feed-forward; each
    /// with its residual and LayerNormalization (`normalize_first`: before, else after).
    /// `legacyAttention`: the self-attention's owner in legacy weight names (the encoder's
    /// `self_attention_layer`, the decoder's `self_attention`; its cross-attention's is `cross_attention`).
    private mutating func transformerBlock(
        _ x: KerasValue, _ config: KerasConfig, selfMasks: AttentionMasks, cross: (KerasValue, AttentionMasks)?, legacyAttention: String, name: String
    ) throws -> KerasValue {
        let hidden = shape(x).last ?? 0, heads = try config.int("num_heads", default: 0), intermediate = try config.int("intermediate_dim", default: 0)
        guard shape(x).count == 3, heads > 0, hidden % heads == 0, intermediate > 0 else {
            throw config.fail("has num_heads \(heads) and intermediate_dim \(intermediate) for a sequence of \(kerasShape(x))")
        }
        let normalizeFirst = try config.bool("normalize_first", default: false)
        let epsilon = try config.float("layer_norm_epsilon", default: 1e-5)
        let attentionConfig = sublayerConfig(config, ["num_heads": .number(Double(heads)), "key_dim": .number(Double(hidden / heads)), "use_bias": .bool(true)])
        let normConfig = sublayerConfig(config, ["epsilon": .number(Double(epsilon))])
        func norm(_ v: KerasValue, _ sublayer: String, _ suffix: String) throws -> KerasValue {
            try layerNormalization(v, normConfig, name: name + "/" + suffix, within: KerasSublayer(keras3Path: "_" + sublayer, legacyOwner: sublayer))
        }
        func residual(_ sublayer: String, _ suffix: String, _ input: KerasValue, _ body: (inout KerasGraphBuilder, KerasValue) throws -> KerasValue) throws -> KerasValue {
            let inner = try body(&self, normalizeFirst ? try norm(input, sublayer, suffix + "_norm") : input)
            let sum = try emit(.elementwise(.add), [inner.name, input.name], name: name + "/" + suffix + "_residual", layer: config.layer, channelsFirst: false)
            return normalizeFirst ? sum : try norm(sum, sublayer, suffix + "_norm")
        }
        var y = try residual("self_attention_layer_norm", "self_attention", x) { b, h in
            try b.attention(
                query: h, value: h, key: h, attentionConfig, masks: selfMasks, at: AttentionWeights(keras3: "_self_attention_layer/", legacy: legacyAttention + "/"),
                name: name + "/self_attention")
        }
        if let (memory, masks) = cross {
            y = try residual("cross_attention_layer_norm", "cross_attention", y) { b, h in
                try b.attention(
                    query: h, value: memory, key: memory, attentionConfig, masks: masks,
                    at: AttentionWeights(keras3: "_cross_attention_layer/", legacy: "cross_attention/"), name: name + "/cross_attention")
            }
        }
        let activation = try config.string("activation", default: "relu")
        let intermediateConfig = sublayerConfig(config, ["units": .number(Double(intermediate)), "activation": .string(activation)], className: "Dense")
        let outputConfig = sublayerConfig(config, ["units": .number(Double(hidden))], className: "Dense")
        return try residual("feedforward_layer_norm", "feedforward", y) { b, h in
            let inner = try b.dense(
                h, intermediateConfig, name: name + "/feedforward_intermediate",
                within: KerasSublayer(keras3Path: "_feedforward_intermediate_dense", legacyOwner: "feedforward_intermediate_dense"))
            return try b.dense(
                inner, outputConfig, name: name + "/feedforward_output",
                within: KerasSublayer(keras3Path: "_feedforward_output_dense", legacyOwner: "feedforward_output_dense"))
        }
    }

    /// A config for a sublayer keras-hub builds from the block's own settings, reported as the block.
    private func sublayerConfig(_ config: KerasConfig, _ entries: [String: JSONValue], className: String? = nil) -> KerasConfig {
        KerasConfig(json: .object(entries), file: config.file, layer: config.layer, className: className ?? config.className)
    }

    /// keras-hub TokenAndPositionEmbedding: the ids' embedding (`token_embedding`, with
    /// `mask_zero`) plus the learned position embedding of the first L positions.
    mutating func tokenAndPositionEmbedding(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard inputs.count == 1, let input = inputs.first else { throw config.fail("expects one input, got \(inputs.count)") }
        let ids = try channelsLast(input, layer: config.layer)
        let vocabulary = try config.int("vocabulary_size", default: 0), width = try config.int("embedding_dim", default: 0)
        let positions = try config.int("sequence_length", default: 0), steps = shape(ids).last ?? 0
        guard shape(ids).count == 2, vocabulary > 0, width > 0, steps <= positions else {
            throw config.fail("has vocabulary_size \(vocabulary), embedding_dim \(width), sequence_length \(positions) for ids of \(kerasShape(ids))")
        }
        if let scale = config.json["scale_embedding"]?.bool, scale { throw config.fail("scales its embeddings (scale_embedding)") }
        let table = try loadWeights(config.layer, [("embeddings", [vocabulary, width])], within: KerasSublayer(keras3Path: "token_embedding", legacyOwner: "token_embedding"))
        guard let embeddings = table["embeddings"] else { throw config.fail("has no token embeddings") }
        let tokens = try emit(.embedding(Embedding()), [ids.name, try constant(embeddings, name: name + "/token_embeddings")], name: name + "/tokens", layer: config.layer, channelsFirst: false)
        let position = try positionTable(config, positions: positions, steps: steps, width: width, within: KerasSublayer(keras3Path: "position_embedding", legacyOwner: "position_embedding"), name: name)
        let output = try emit(.elementwise(.add), [tokens.name, position], name: name, layer: config.layer, channelsFirst: false)
        if try config.bool("mask_zero", default: false) { masks[output.name] = try stepMask(of: ids.name, value: 0, config, name: name + "/mask") }
        return output
    }

    /// keras-hub PositionEmbedding: the first L rows of the learned N_max×D table, the same for every sample.
    mutating func positionEmbedding(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard inputs.count == 1, let input = inputs.first else { throw config.fail("expects one input, got \(inputs.count)") }
        let x = try channelsLast(input, layer: config.layer), s = shape(x)
        let positions = try config.int("sequence_length", default: 0)
        guard s.count == 3, positions >= s[1] else { throw config.fail("has sequence_length \(positions) for a sequence of \(kerasShape(x))") }
        let table = try positionTable(config, positions: positions, steps: s[1], width: s[2], within: nil, name: name)
        return try emit(.expandBatch(ExpandBatch()), [x.name, table], name: name, layer: config.layer, channelsFirst: false)
    }

    /// keras-hub SinePositionEncoding: `sin` / `cos` (even / odd features) of position ×
    /// `max_wavelength`^(−2⌊j/2⌋/D), computed in float32 as keras-hub does; the same for every sample.
    mutating func sinePositionEncoding(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard inputs.count == 1, let input = inputs.first else { throw config.fail("expects one input, got \(inputs.count)") }
        let x = try channelsLast(input, layer: config.layer), s = shape(x)
        let wavelength = try config.float("max_wavelength", default: 10_000)
        guard s.count == 3, wavelength > 0 else { throw config.fail("has max_wavelength \(wavelength) for a sequence of \(kerasShape(x))") }
        let (steps, width) = (s[1], s[2])
        var table = try Tensor(shape: [1, steps, width])
        let minFrequency = 1 / wavelength
        for j in 0..<width {
            let timescale = Float(pow(Double(minFrequency), Double(Float(2 * (j / 2)) / Float(width))))
            for t in 0..<steps {
                let angle = Float(t) * timescale
                table.storage[t * width + j] = j % 2 == 1 ? Float(cos(Double(angle))) : Float(sin(Double(angle)))
            }
        }
        return try emit(.expandBatch(ExpandBatch()), [x.name, try constant(table, name: name + "/encoding")], name: name, layer: config.layer, channelsFirst: false)
    }

    /// The first `steps` rows of a learned position table (`embeddings`, positions × width), as a 1×steps×width constant.
    private mutating func positionTable(_ config: KerasConfig, positions: Int, steps: Int, width: Int, within sublayer: KerasSublayer?, name: String) throws -> String {
        let w = try loadWeights(config.layer, [("embeddings", [positions, width])], within: sublayer)
        guard let table = w["embeddings"] else { throw config.fail("has no position embeddings") }
        return try constant(try Tensor(shape: [1, steps, width], storage: Array(table.storage[0..<(steps * width)])), name: name + "/position_embeddings")
    }
}
