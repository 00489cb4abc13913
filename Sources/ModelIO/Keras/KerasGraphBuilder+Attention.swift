import TensorCore

/// Keras MultiHeadAttention as IR ops: per-head projections (`linear`), `matMul` of queries and
/// keys, the masks as an additive −1e9, `softmax`, `matMul` with the values, the output
/// projection — the same computation Keras's einsums make, in the form ONNX writes attention.
/// The masks an attention block applies: Keras masks of the query (N×T), value and key (N×S),
/// an `attention_mask` tensor (N×T×S, 1 = attend) and the causal mask.
struct AttentionMasks {
    var query: String?
    var value: String?
    var key: String?
    var attention: KerasValue?
    var causal = false
}

/// Where an attention block's weights live inside its layer: the group of the Keras 3 layout
/// (`""` for a MultiHeadAttention layer itself, `_self_attention_layer/` inside a keras-hub
/// block) and the owner prefix of the legacy weight names.
struct AttentionWeights {
    var keras3: String
    var legacy: String
    /// A MultiHeadAttention layer's own weights.
    static let layer = AttentionWeights(keras3: "", legacy: "")
}

extension KerasGraphBuilder {
    /// MultiHeadAttention on `[query, value, key?]` (positional or keyword `value=` / `key=`),
    /// with `use_causal_mask`, an `attention_mask` tensor (N×T×S, 1 = attend) and the inputs'
    /// Keras masks; the output carries the query's mask. The 1/√key_dim scale is folded into
    /// the query projection.
    mutating func multiHeadAttention(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard let queryInput = inputs.first, let valueInput = inputs.count > 1 ? inputs[1] : callKeywords["value"] else {
            throw config.fail("is called without query and value")
        }
        let keyInput = inputs.count > 2 ? inputs[2] : callKeywords["key"] ?? valueInput
        guard callOptions["return_attention_scores"] != true else {
            throw config.fail("returns its attention scores", hint: "re-save the model without return_attention_scores")
        }
        var applied = AttentionMasks(attention: callKeywords["attention_mask"], causal: callOptions["use_causal_mask"] == true)
        applied.query = mask(of: queryInput)
        applied.value = callKeywords["value_mask"]?.name ?? mask(of: valueInput)
        if keyInput.name != valueInput.name { applied.key = callKeywords["key_mask"]?.name ?? mask(of: keyInput) }
        let output = try attention(query: queryInput, value: valueInput, key: keyInput, config, masks: applied, at: .layer, name: name)
        if let queryMask = mask(of: queryInput) { masks[output.name] = queryMask }
        if kerasMajor >= 3 {
            // Keras 3 removes the masks of the tensors it attended over, for every layer that reads them after it.
            for input in [queryInput, valueInput, keyInput] { masks[input.name] = nil }
        }
        return output
    }

    /// One attention block as IR ops, its sizes from `config` (`num_heads`, `key_dim`,
    /// `value_dim`, `use_bias`) and its weights at `location` inside `config.layer`.
    mutating func attention(
        query queryInput: KerasValue, value valueInput: KerasValue, key keyInput: KerasValue, _ config: KerasConfig, masks: AttentionMasks,
        at location: AttentionWeights, name: String
    ) throws -> KerasValue {
        let heads = try config.int("num_heads", default: 0), keyDim = try config.int("key_dim", default: 0)
        let valueDim = try config.int("value_dim", default: keyDim)
        guard heads > 0, keyDim > 0, valueDim > 0, Checked.multiply(heads, max(keyDim, valueDim)) != nil else {
            throw config.fail("has num_heads \(heads), key_dim \(keyDim), value_dim \(valueDim)")
        }
        guard config.json["output_shape"]?.isNull ?? true else { throw config.fail("sets output_shape", hint: "re-save the model without output_shape") }
        guard try !config.bool("use_gate", default: false) else { throw config.fail("uses a gate (use_gate)", hint: "re-save the model with use_gate=False") }
        if let axes = config.json["attention_axes"], !axes.isNull, axes.array?.compactMap(\.int) != [1] {
            throw config.fail("attends over axes \(axes), not the sequence", hint: "ModelPress runs attention over the steps of N×steps×features inputs")
        }
        let query = try channelsLast(queryInput, layer: config.layer), key = try channelsLast(keyInput, layer: config.layer)
        let value = try channelsLast(valueInput, layer: config.layer)
        for v in [query, key, value] where shape(v).count != 3 {
            throw config.fail("expects sequences N×steps×features, got \(kerasShape(v))")
        }
        let (targetSteps, sourceSteps, width) = (shape(query)[1], shape(key)[1], shape(query)[2])
        let useBias = try config.bool("use_bias", default: true)
        let scale = 1 / Float(keyDim).squareRoot()
        func projection(_ x: KerasValue, _ role: String, size: Int, scale: Float, perm: [Int]) throws -> KerasValue {
            try headProjection(
                x, config, role, heads: heads, size: size, useBias: useBias, scale: scale, perm: perm,
                within: KerasSublayer(keras3Path: location.keras3 + role + "_dense", legacyOwner: location.legacy + role), name: name)
        }
        let q = try projection(query, "query", size: keyDim, scale: scale, perm: [0, 2, 1, 3])
        let kT = try projection(key, "key", size: keyDim, scale: 1, perm: [0, 2, 3, 1])
        let v = try projection(value, "value", size: valueDim, scale: 1, perm: [0, 2, 1, 3])
        var scores = try emit(.matMul(MatMul()), [q.name, kT.name], name: name + "/scores", layer: config.layer, channelsFirst: false)
        guard let pairs = Checked.multiply(targetSteps, sourceSteps), pairs <= 1 << 26 else {
            throw config.fail("attends over \(targetSteps) × \(sourceSteps) steps, more than ModelPress builds attention for (2^26 pairs)")
        }
        scores = try maskScores(scores, config, masks, targetSteps: targetSteps, sourceSteps: sourceSteps, name: name)
        let weights = try emit(.softmax(axis: 3), [scores.name], name: name + "/weights", layer: config.layer, channelsFirst: false)
        let context = try emit(.matMul(MatMul()), [weights.name, v.name], name: name + "/context", layer: config.layer, channelsFirst: false)
        let steps = try emit(.transpose([0, 2, 1, 3]), [context.name], name: name + "/context_steps", layer: config.layer, channelsFirst: false)
        let joined = try emit(.reshape([targetSteps, heads * valueDim]), [steps.name], name: name + "/heads", layer: config.layer, channelsFirst: false)
        var expected = [("kernel", [heads, valueDim, width])]
        if useBias { expected.append(("bias", [width])) }
        let w = try loadWeights(config.layer, expected, within: KerasSublayer(keras3Path: location.keras3 + "output_dense", legacyOwner: location.legacy + "attention_output"))
        guard let kernel = w["kernel"] else { throw config.fail("has no attention_output kernel") }
        var projection = [joined.name, try constant(try kernel.reshaped([heads * valueDim, width]), name: name + "/output_kernel")]
        if let bias = w["bias"] { projection.append(try constant(bias, name: name + "/output_bias")) }
        return try emit(.linear, projection, name: name, layer: config.layer, channelsFirst: false)
    }

    /// The scores N×heads×T×S with Keras's masks applied: the causal mask (`use_causal_mask`),
    /// an `attention_mask` tensor N×T×S (1 = attend), and the Keras masks of the query (N×T×1)
    /// and value / a separate key (N×1×S, or those passed as `value_mask` / `key_mask`), ANDed
    /// into one 0/1 mask m; then m − 1 times 1e9 is
    /// added (0 where attended, −1e9 where not; a row with nothing attended becomes uniform, as
    /// in Keras). Without Keras masks, the causal mask stays a constant of its own.
    private mutating func maskScores(
        _ scores: KerasValue, _ config: KerasConfig, _ masks: AttentionMasks, targetSteps: Int, sourceSteps: Int, name: String
    ) throws -> KerasValue {
        var scores = scores
        var factors: [String] = []
        if let m = masks.query { factors.append(try emit(.reshape([targetSteps, 1]), [m], name: name + "/query_mask", layer: config.layer, channelsFirst: false).name) }
        for (m, role) in [(masks.value, "value"), (masks.key, "key")] {
            guard let m else { continue }
            factors.append(try emit(.reshape([1, sourceSteps]), [m], name: name + "/" + role + "_mask", layer: config.layer, channelsFirst: false).name)
        }
        if masks.causal {
            // Step t attends to steps ≤ t (Keras's lower-triangular T×S mask).
            var allowed = try Tensor(shape: [1, targetSteps, sourceSteps])
            for t in 0..<targetSteps { for s in 0..<min(t + 1, sourceSteps) { allowed.storage[t * sourceSteps + s] = 1 } }
            if factors.isEmpty {
                let adder = try Tensor(shape: [1, 1, targetSteps, sourceSteps], storage: allowed.storage.map { $0 == 1 ? 0 : -1e9 })
                scores = try emit(.elementwise(.add), [scores.name, try constant(adder, name: name + "/causal_mask")], name: name + "/causal", layer: config.layer, channelsFirst: false)
            } else {
                factors.append(try constant(allowed, name: name + "/causal_allowed"))
            }
        }
        if let given = masks.attention {
            let m = try channelsLast(given, layer: config.layer)
            guard shape(m).count == 3, shape(m)[1] == targetSteps, shape(m)[2] == sourceSteps else {
                throw config.fail("has an attention mask of \(kerasShape(m)), expected N×\(targetSteps)×\(sourceSteps)")
            }
            factors.append(m.name)
        }
        guard var combined = factors.first else { return scores }
        if factors.count > 1 {
            combined = try emit(.elementwise(.multiply), factors, name: name + "/attended", layer: config.layer, channelsFirst: false).name
        }
        // (m − 1)·1e9: 0 where attended, −1e9 where not, broadcast over the heads.
        let shifted = try emit(.elementwise(.subtract), [combined, try constant(Tensor(scalar: 1), name: name + "/one")], name: name + "/mask_shift", layer: config.layer, channelsFirst: false)
        let adder = try emit(.elementwise(.multiply), [shifted.name, try constant(Tensor(scalar: 1e9), name: name + "/large")], name: name + "/mask_adder", layer: config.layer, channelsFirst: false)
        let perHead = try emit(.reshape([1] + shape(adder).dropFirst()), [adder.name], name: name + "/mask_heads", layer: config.layer, channelsFirst: false)
        return try emit(.elementwise(.add), [scores.name, perHead.name], name: name + "/masked", layer: config.layer, channelsFirst: false)
    }

    /// One of the query / key / value projections: N×L×C → linear to N×L×heads·size (kernel
    /// C×heads×size, times `scale`) → N×L×heads×size → transposed by `perm`.
    private mutating func headProjection(
        _ x: KerasValue, _ config: KerasConfig, _ role: String, heads: Int, size: Int, useBias: Bool, scale: Float, perm: [Int],
        within sublayer: KerasSublayer, name: String
    ) throws -> KerasValue {
        let (steps, features) = (shape(x)[1], shape(x)[2])
        var expected = [("kernel", [features, heads, size])]
        if useBias { expected.append(("bias", [heads, size])) }
        let w = try loadWeights(config.layer, expected, within: sublayer)
        guard let kernel = w["kernel"] else { throw config.fail("has no \(role) kernel") }
        var inputs = [x.name, try constant(try Tensor(shape: [features, heads * size], storage: kernel.storage.map { $0 * scale }), name: name + "/" + role + "_kernel")]
        if let bias = w["bias"] { inputs.append(try constant(try Tensor(shape: [heads * size], storage: bias.storage.map { $0 * scale }), name: name + "/" + role + "_bias")) }
        let projected = try emit(.linear, inputs, name: name + "/" + role, layer: config.layer, channelsFirst: false)
        let split = try emit(.reshape([steps, heads, size]), [projected.name], name: name + "/" + role + "_heads", layer: config.layer, channelsFirst: false)
        return try emit(.transpose(perm), [split.name], name: name + "/" + role + "_by_head", layer: config.layer, channelsFirst: false)
    }
}
