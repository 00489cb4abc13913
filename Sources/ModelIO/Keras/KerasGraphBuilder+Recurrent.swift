import TensorCore

/// Keras recurrent layers: SimpleRNN, LSTM and GRU as one `recurrent` node each (Bidirectional
/// as two, merged), TimeDistributed around per-step layers.
extension KerasGraphBuilder {
    /// SimpleRNN / LSTM / GRU: `[output] + states` as Keras returns them (`return_sequences`,
    /// `return_state`; a `go_backwards` sequence comes out in processing order, as in Keras).
    mutating func recurrentLayer(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> [KerasValue] {
        let sequence = try recurrentInput(x, config)
        var spec = try RecurrentSpec(config, kerasMajor: kerasMajor)
        let stepMask = try self.stepMask(for: sequence, config)
        if stepMask != nil { spec.op.masked = try config.bool("zero_output_for_mask", default: false) ? .zero : .state }
        // The sequence keeps the layer's name when it is the layer's output as it stands.
        let direct = spec.returnSequences && !spec.goBackwards
        let outputs = try recurrentDirection(
            sequence, config, spec, mask: stepMask, within: KerasSublayer(keras3Path: "cell", legacyOwner: nil), name: name, sequenceName: direct ? name : nil)
        let output = spec.returnSequences ? try kerasSequence(outputs[0], goBackwards: spec.goBackwards, config, name: name) : outputs[1]
        // Keras passes the input's mask on with the sequence (unreversed, even going backwards).
        if spec.returnSequences, let stepMask { masks[output.name] = stepMask }
        return [output] + (spec.returnState ? Array(outputs.dropFirst()) : [])
    }

    /// Bidirectional: the layer forwards and a copy (or `backward_layer`) backwards, the backward
    /// sequence flipped back into input order, merged by `merge_mode` (concat, sum, mul, ave; none
    /// returns both); with `return_state`, the forward states then the backward ones follow.
    mutating func bidirectional(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> [KerasValue] {
        let sequence = try recurrentInput(x, config)
        guard let inner = config.json["layer"], let className = inner["class_name"]?.string, let innerJSON = inner["config"] else {
            throw config.fail("has no wrapped layer")
        }
        guard ["SimpleRNN", "LSTM", "GRU"].contains(className) else {
            throw ModelPressError.unsupportedLayer(
                file: file, layer: config.layer, className: "Bidirectional(\(className))",
                reason: "wraps a layer ModelPress does not run in both directions.\nHINT: wrap SimpleRNN, LSTM or GRU.")
        }
        let innerName = innerJSON["name"]?.string ?? ""
        let backwardJSON = config.json["backward_layer"]?["config"] ?? innerJSON
        let backwardClass = config.json["backward_layer"]?["class_name"]?.string ?? className
        let forwardConfig = KerasConfig(json: innerJSON, file: file, layer: config.layer, className: className)
        let backwardConfig = KerasConfig(json: backwardJSON, file: file, layer: config.layer, className: backwardClass)
        var forwardSpec = try RecurrentSpec(forwardConfig, kerasMajor: kerasMajor)
        var backwardSpec = try RecurrentSpec(backwardConfig, kerasMajor: kerasMajor)
        if config.json["backward_layer"]?.isNull ?? true { backwardSpec.goBackwards = !forwardSpec.goBackwards }
        // Keras zeroes masked steps of both directions' sequences (zero_output_for_mask = return_sequences).
        let stepMask = try self.stepMask(for: sequence, config)
        if stepMask != nil {
            forwardSpec.op.masked = forwardSpec.returnSequences ? .zero : .state
            backwardSpec.op.masked = forwardSpec.op.masked
        }
        // Legacy weight names carry `forward_<name>` / `backward_<name>` (Keras 3 saves the
        // wrapped layer already named so, with an explicit backward layer).
        let forwardOwner = innerName.hasPrefix("forward_") ? innerName : "forward_" + innerName
        let backwardOwner = config.json["backward_layer"]?["config"]?["name"]?.string ?? "backward_" + innerName
        let forward = try recurrentDirection(
            sequence, forwardConfig, forwardSpec, mask: stepMask, within: KerasSublayer(keras3Path: "forward_layer/cell", legacyOwner: forwardOwner), name: name + "/forward")
        let backward = try recurrentDirection(
            sequence, backwardConfig, backwardSpec, mask: stepMask, within: KerasSublayer(keras3Path: "backward_layer/cell", legacyOwner: backwardOwner), name: name + "/backward")
        var forwardOutput = forward[1], backwardOutput = backward[1]
        if forwardSpec.returnSequences {
            forwardOutput = try kerasSequence(forward[0], goBackwards: forwardSpec.goBackwards, config, name: name + "/forward_sequence")
            // Keras flips the backward layer's output back into input order.
            backwardOutput = try kerasSequence(backward[0], goBackwards: !backwardSpec.goBackwards, config, name: name + "/backward_sequence")
        }
        let states = forwardSpec.returnState ? Array(forward.dropFirst()) + Array(backward.dropFirst()) : []
        let pair = [forwardOutput.name, backwardOutput.name]
        // Keras's default is concat; an explicit null returns both outputs.
        let mode = config.json["merge_mode"].map { $0.isNull ? nil : $0.string } ?? "concat"
        let merged: KerasValue
        switch mode {
        case nil:
            if forwardSpec.returnSequences, let stepMask { for output in [forwardOutput, backwardOutput] { masks[output.name] = stepMask } }
            return [forwardOutput, backwardOutput] + states
        case "concat": merged = try emit(.concat(axis: shape(forwardOutput).count - 1), pair, name: name, layer: config.layer, channelsFirst: false)
        case "sum": merged = try emit(.elementwise(.add), pair, name: name, layer: config.layer, channelsFirst: false)
        case "mul": merged = try emit(.elementwise(.multiply), pair, name: name, layer: config.layer, channelsFirst: false)
        case "ave": merged = try emit(.elementwise(.mean), pair, name: name, layer: config.layer, channelsFirst: false)
        case let other?: throw config.fail("has merge_mode '\(other)'", hint: "use concat, sum, mul, ave or None")
        }
        if forwardSpec.returnSequences, let stepMask { masks[merged.name] = stepMask }
        return [merged] + states
    }

    /// TimeDistributed around a layer that already works step by step on an N×L×… tensor (Dense,
    /// activations, Dropout): the layer itself, with its weights read from inside the wrapper.
    mutating func timeDistributed(_ x: KerasValue, _ config: KerasConfig, name: String) throws -> KerasValue {
        guard let inner = config.json["layer"], let className = inner["class_name"]?.string, let innerJSON = inner["config"] else {
            throw config.fail("has no wrapped layer")
        }
        let perStep: Set<String> = ["Dense", "Activation", "Dropout", "ReLU", "LeakyReLU", "ELU", "Softmax"]
        guard perStep.contains(className), let convert = kerasLayerConverters[className] else {
            throw ModelPressError.unsupportedLayer(
                file: file, layer: config.layer, className: "TimeDistributed(\(className))",
                reason: "wraps a layer that does not act on the last axis alone; ModelPress runs TimeDistributed around \(perStep.sorted().joined(separator: ", ")).")
        }
        let innerConfig = KerasConfig(json: innerJSON, file: file, layer: config.layer, className: className)
        guard className == "Dense" else {
            let spec = KerasLayerSpec(className: className, name: name, pathComponents: [config.layer], config: innerJSON, calls: [])
            return try convert(&self, spec, innerConfig, [x], name)
        }
        return try dense(x, innerConfig, name: name, within: KerasSublayer(keras3Path: "layer", legacyOwner: nil))
    }

    /// The N×L×C sequence a recurrent layer reads.
    private mutating func recurrentInput(_ x: KerasValue, _ config: KerasConfig) throws -> KerasValue {
        let sequence = try channelsLast(x, layer: config.layer)
        guard shape(sequence).count == 3 else {
            throw config.fail("expects a sequence N×steps×features, got \(kerasShape(sequence))", hint: "recurrent layers read 3-D inputs")
        }
        return sequence
    }

    /// One `recurrent` node for one direction of a layer: outputs `[y N×L×H, h, c?]` (`y` in
    /// input order, named `sequenceName` or `<name>/sequence`), weights read from `sublayer` (the
    /// cell), reading the step `mask` when the spec's op is masked.
    private mutating func recurrentDirection(
        _ x: KerasValue, _ config: KerasConfig, _ spec: RecurrentSpec, mask: String?, within sublayer: KerasSublayer, name: String, sequenceName: String? = nil
    ) throws -> [KerasValue] {
        let features = shape(x)[2], width = spec.op.cell.gates * spec.op.units
        var expected = [("kernel", [features, width]), ("recurrent_kernel", [spec.op.units, width])]
        let splitBias = spec.op.cell == .gru(resetAfter: true)
        if spec.useBias { expected.append(("bias", splitBias ? [2, width] : [width])) }
        let w = try loadWeights(config.layer, expected, within: sublayer)
        guard let kernel = w["kernel"], let recurrentKernel = w["recurrent_kernel"] else { throw config.fail("has no kernel") }
        var inputs = [x.name, try constant(kernel, name: name + "/kernel"), try constant(recurrentKernel, name: name + "/recurrent_kernel")] + (mask.map { [$0] } ?? [])
        if let bias = w["bias"] {
            if splitBias {
                inputs.append(try constant(try Tensor(shape: [width], storage: Array(bias.storage[0..<width])), name: name + "/bias"))
                inputs.append(try constant(try Tensor(shape: [width], storage: Array(bias.storage[width...])), name: name + "/recurrent_bias"))
            } else {
                inputs.append(try constant(bias, name: name + "/bias"))
            }
        }
        var op = spec.op
        op.reverse = spec.goBackwards
        let names = [sequenceName ?? name + "/sequence", name + "/state_h"] + (op.cell == .lstm ? [name + "/state_c"] : [])
        return try emit(.recurrent(op), inputs, names: names, layer: config.layer)
    }

    /// The sequence Keras returns from `y` (input order): reversed when the layer went backwards.
    private mutating func kerasSequence(_ y: KerasValue, goBackwards: Bool, _ config: KerasConfig, name: String) throws -> KerasValue {
        guard goBackwards else { return y }
        return try emit(.reverse(Reverse(axis: 1)), [y.name], name: name, layer: config.layer, channelsFirst: false)
    }
}

/// What a SimpleRNN / LSTM / GRU config asks for.
struct RecurrentSpec {
    var op: Recurrent
    var useBias: Bool
    var returnSequences: Bool
    var returnState: Bool
    var goBackwards: Bool

    /// Reads `config`; refuses `stateful` and `time_major` layers and activations without an
    /// ONNX recurrent form. `linear` runs as LeakyRelu(1), the identity ONNX can express.
    init(_ config: KerasConfig, kerasMajor: Int) throws {
        let cell: Recurrent.Cell
        switch config.className {
        case "SimpleRNN": cell = .simple
        case "LSTM": cell = .lstm
        default: cell = .gru(resetAfter: try config.bool("reset_after", default: true))
        }
        let units = try config.int("units", default: 0)
        guard (1...Recurrent.maxUnits).contains(units) else { throw config.fail("has units \(units)") }
        guard try !config.bool("stateful", default: false) else {
            throw config.fail("is stateful (it carries its state from one batch to the next)", hint: "re-save the model with stateful=False")
        }
        guard try !config.bool("time_major", default: false) else { throw config.fail("reads time-major inputs", hint: "re-save the model with time_major=False") }
        func activation(_ key: String, default value: String) throws -> Activation {
            let name = try config.string(key, default: value)
            if name == "linear" { return .leakyRelu(alpha: 1) }
            guard let f = KerasActivationName.elementwise(name, kerasMajor: kerasMajor) else {
                throw ModelPressError.unsupportedLayer(
                    file: config.file, layer: config.layer, className: config.className,
                    reason: "uses \(key) '\(name)', which ModelPress does not run in recurrent layers.\nHINT: use one of \(KerasActivationName.supported).")
            }
            return f
        }
        let candidate = try activation("activation", default: "tanh")
        op = Recurrent(cell: cell, units: units, reverse: false, gate: try activation("recurrent_activation", default: "sigmoid"), candidate: candidate, output: candidate)
        useBias = try config.bool("use_bias", default: true)
        returnSequences = try config.bool("return_sequences", default: false)
        returnState = try config.bool("return_state", default: false)
        goBackwards = try config.bool("go_backwards", default: false)
    }
}
