import Engine
import TensorCore

/// How batch normalization behaves in a training forward pass.
public enum BatchNormMode: String, Sendable {
    /// Normalise with the batch's statistics and update the running averages (Keras `training=True`).
    case batchStatistics
    /// Use the stored running statistics, frozen (Keras `training=False` / fine-tuning with frozen BN).
    case frozen
}

/// One forward pass that keeps every value and per-node cache its backward pass needs.
public struct Tape: Sendable {
    /// Every value computed (graph input, node outputs after dropout), by name.
    public var values: [String: Tensor]
    /// Training-mode batch-norm caches by node index.
    var batchNorm: [Int: BatchNormCache] = [:]
    /// Dropout masks by value name.
    var masks: [String: DropoutMask] = [:]
    /// Fake-quantized values: 1 where the value was inside its grid's range, 0 where clipped.
    var rangeMasks: [String: [Float]] = [:]
    /// Fake-quantized values: the batch's minimum and maximum before rounding (for moving-average ranges).
    public var observedRanges: [String: (min: Float, max: Float)] = [:]
    /// New running statistics (BN moving mean/variance names and values), in node order.
    public var statisticUpdates: [(String, Tensor)] = []
    /// The model output (logits).
    public var output: Tensor
}

/// Gradients of a scalar loss: per trainable parameter (in `TrainableModel.parameters` order)
/// and for the graph input.
public struct Gradients: Sendable {
    /// `d loss / d parameter`, aligned with `TrainableModel.parameters`.
    public var parameters: [Tensor]
    /// `d loss / d input` (N×… like the input).
    public var input: Tensor?
}

/// Reverse-mode differentiation over the graph IR: `forward` runs the nodes in order keeping
/// their values, `backward` walks them in reverse, each op's backward kernel turning the
/// output gradient into input gradients.
public enum GradientTape {
    /// Runs `model` on `input` (N×…, the declared per-sample shape). With `training`, dropout
    /// draws its masks from `random` and batch norm follows `batchNorm`; otherwise dropout is off and BN frozen.
    public static func forward(
        _ model: TrainableModel, input: Tensor, training: Bool, batchNorm: BatchNormMode = .batchStatistics,
        random: inout TrainingRandom
    ) throws -> Tape {
        let graph = model.graph
        guard let info = graph.inputs.first, Array(info.shape.dropFirst()) == Array(input.shape.dropFirst()) else {
            throw ModelPressError.invalidArgument("training input has shape \(input.shape); the model expects [N] + \(Array((graph.inputs.first?.shape ?? []).dropFirst()))")
        }
        var tape = Tape(values: [info.name: input], output: input)
        for (index, node) in graph.nodes.enumerated() {
            let args: [Tensor?] = try node.inputs.map { name in
                if let v = tape.values[name] ?? graph.initializers[name] { return v }
                throw ModelPressError.internalError("value '\(name)' read by node '\(node.name)' is not available")
            }
            func arg(_ i: Int) throws -> Tensor {
                guard i < args.count, let t = args[i] else { throw ModelPressError.internalError("node '\(node.name)' (\(node.op.name)): missing input \(i)") }
                return t
            }
            var outputs: [Tensor]
            if case .batchNormalization(let bn) = node.op, training, batchNorm == .batchStatistics {
                let (out, cache) = try batchNormTrainingForward(try arg(0), scale: try arg(1), bias: try arg(2), epsilon: bn.epsilon)
                outputs = [out]
                tape.batchNorm[index] = cache
                var mean = try arg(3), variance = try arg(4)
                updateMovingAverage(&mean, batch: cache.mean, momentum: model.batchNormMomentum)
                updateMovingAverage(&variance, batch: cache.variance, momentum: model.batchNormMomentum)
                tape.statisticUpdates.append((node.inputs[3], mean))
                tape.statisticUpdates.append((node.inputs[4], variance))
            } else {
                // The tape keeps referencing the inputs, so in-place kernels copy instead of
                // overwriting them.
                var arguments = args
                outputs = try Executor.execute(node.op, &arguments)
            }
            if training, let rate = model.dropout[node.output], rate > 0 {
                let mask = DropoutMask(count: outputs[0].count, rate: rate, random: &random)
                mask.apply(&outputs[0])
                tape.masks[node.output] = mask
            }
            for (position, name) in node.outputs.enumerated() {
                guard let q = model.fakeQuantized[name], let lo = outputs[position].storage.min(), let hi = outputs[position].storage.max() else { continue }
                tape.observedRanges[name] = (lo, hi)
                tape.rangeMasks[name] = fakeQuantize(&outputs[position], q)
            }
            for (name, value) in zip(node.outputs, outputs) { tape.values[name] = value }
        }
        guard let out = tape.values[graph.outputs[0].name] else { throw ModelPressError.internalError("output '\(graph.outputs[0].name)' was not computed") }
        tape.output = out
        return tape
    }

    /// Backpropagates `outputGradient` (d loss / d output, the output's shape) through `tape`;
    /// `seeds` adds gradients of further loss terms at intermediate values (feature distillation).
    public static func backward(
        _ model: TrainableModel, tape: Tape, outputGradient: Tensor, seeds: [String: Tensor] = [:], batchNorm: BatchNormMode = .batchStatistics
    ) throws -> Gradients {
        let graph = model.graph
        var grads: [String: Tensor] = [graph.outputs[0].name: outputGradient]
        for (name, g) in seeds.sorted(by: { $0.key < $1.key }) { accumulate(&grads, name, g) }
        var parameterGrads: [String: Tensor] = [:]
        for (index, node) in graph.nodes.enumerated().reversed() {
            var outputGradients = node.outputs.map { grads.removeValue(forKey: $0) }
            guard outputGradients.contains(where: { $0 != nil }) else { continue }
            if let mask = tape.masks[node.output], outputGradients[0] != nil { mask.apply(&outputGradients[0]!) }
            for (position, name) in node.outputs.enumerated() {
                guard let inRange = tape.rangeMasks[name], var g = outputGradients[position] else { continue }
                for i in g.storage.indices { g.storage[i] *= inRange[i] }
                outputGradients[position] = g
            }
            let step = BackwardStep(node: node, index: index, outputGradients: outputGradients, tape: tape, graph: graph)
            let inputGrads = try node.op.differentiable.backward(step)
            for (position, g) in inputGrads.enumerated() {
                guard let g, position < node.inputs.count else { continue }
                let name = node.inputs[position]
                if graph.initializers[name] != nil {
                    if model.parameters.contains(name) { accumulate(&parameterGrads, name, g) }
                } else {
                    accumulate(&grads, name, g)
                }
            }
        }
        let parameters = try model.parameters.map { name -> Tensor in
            if let g = parameterGrads[name] { return g }
            return try Tensor(shape: graph.initializers[name]?.shape ?? [0])
        }
        return Gradients(parameters: parameters, input: grads[graph.inputs[0].name])
    }

    /// Rounds `value` onto the grid of `q` (per tensor) and returns its straight-through mask:
    /// 1 where the value lay inside the grid's range, 0 where it was clipped.
    static func fakeQuantize(_ value: inout Tensor, _ q: TensorQuantization) -> [Float] {
        let (lo, hi) = q.representableRange()
        let mask = value.storage.map { $0 >= lo && $0 <= hi ? Float(1) : 0 }
        q.fakeQuantize(&value)
        return mask
    }

    /// Adds `g` into `grads[name]`.
    static func accumulate(_ grads: inout [String: Tensor], _ name: String, _ g: Tensor) {
        guard var existing = grads.removeValue(forKey: name) else { grads[name] = g; return }
        existing.storage.withUnsafeMutableBufferPointer { e in
            g.storage.withUnsafeBufferPointer { gp in for i in e.indices { e[i] += gp[i] } }
        }
        grads[name] = existing
    }
}
