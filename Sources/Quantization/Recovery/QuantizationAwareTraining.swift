import TensorCore
import Training

/// Quantization-aware training (`quantize --qat`): the inference graph (BatchNorm already folded
/// into the kernels, as it ships) is fine-tuned with its Conv / Dense weights and activations
/// fake-quantized as static quantization will quantize them, gradients passing straight through
/// the rounding; the fine-tuned float graph is then quantized by the ordinary post-training path,
/// so the file has the same form as PTQ's.
///
/// - Weights: each step's forward pass sees `fakeQuantize(W)` with `StaticQuantizer`'s own
///   parameters of the current `W` (per channel or per tensor, int4 / int8, `max|w| / levels`,
///   which never clips); the optimizer updates the float `W` with the gradient taken at the
///   rounded weights.
/// - Activations: every value static quantization calibrates, starting from the PTQ calibration
///   of `calibration`, then an exponential moving average (`rangeMomentum`) of each batch's
///   min / max (TFMOT's moving-average quantizers); gradients are zero where a value was clipped.
/// - Sparsity: weights that are exactly zero when training starts stay zero (a pruned model
///   stays pruned).
public struct QuantizationAwareTraining: Sendable {
    /// The fine-tuning recipe (epochs, optimizer, learning rate, batch size, seed).
    public var training: TrainingConfiguration
    /// Weight of the previous range in the moving average: `r ← m·r + (1 − m)·batch`.
    public var rangeMomentum: Float = 0.99

    /// QAT with the recipe `training`.
    public init(training: TrainingConfiguration) {
        self.training = training
    }

    /// The fine-tuned float graph (inference form, softmax re-attached) and the epochs.
    /// `prepared` is the inference graph `options` will quantize, `statistics` its PTQ
    /// calibration; `onEpoch` sees each epoch.
    public func run(
        _ prepared: Graph, options: StaticQuantizationOptions, statistics: [String: ActivationStatistics],
        train: TrainingSet, validation: TrainingSet?, source: String, onEpoch: (EpochRecord) -> Void = { _ in }
    ) throws -> (graph: Graph, epochs: [EpochRecord]) {
        let plan = QuantizationPlan(graph: prepared, options: options)
        let (ptq, _) = try StaticQuantizer.quantize(prepared, plan: plan, statistics: statistics, options: options)
        var model = try TrainableModel(graph: prepared, source: source)
        model.fakeQuantized = ptq.quantization.filter { name, q in
            prepared.initializers[name] == nil && model.graph.shapes[name] != nil && q.axis == nil && q.type != .int32
        }
        // Weight positions in `model.parameters`, with what quantizes them.
        let position = Dictionary(uniqueKeysWithValues: model.parameters.enumerated().map { ($1, $0) })
        let weights: [(index: Int, node: Node, axis: Int)] = plan.compute.compactMap { c in
            position[c.weight].map { ($0, prepared.nodes[c.index], c.channelAxis) }
        }
        let zeros: [(index: Int, positions: [Int])] = weights.compactMap { w in
            let values = model.graph.initializers[model.parameters[w.index]]?.storage ?? []
            let positions = values.indices.filter { values[$0] == 0 }
            return positions.isEmpty ? nil : (w.index, positions)
        }
        var ranges = model.fakeQuantized.mapValues { $0.representableRange() }
        let momentum = rangeMomentum
        let result = try Trainer(training).fit(
            model, train: train, validation: validation,
            afterStep: { _, parameters in
                for z in zeros { for i in z.positions { parameters[z.index].storage[i] = 0 } }
            },
            forwardWeights: { parameters in
                for w in weights {
                    StaticQuantizer.weightQuantization(parameters[w.index], of: w.node, axis: w.axis, options: options).fakeQuantize(&parameters[w.index])
                }
            },
            afterForward: { model, tape in
                for (name, range) in ranges {
                    guard let observed = tape.observedRanges[name], let old = model.fakeQuantized[name] else { continue }
                    let lo = momentum * range.lo + (1 - momentum) * min(0, observed.min)
                    let hi = momentum * range.hi + (1 - momentum) * max(0, observed.max)
                    ranges[name] = (lo, hi)
                    model.fakeQuantized[name] = StaticQuantizer.activation(lo: lo, hi: hi, type: old.type, scheme: options.scheme)
                }
            }, onEpoch: onEpoch)
        return (try result.model.exportGraph(), result.history)
    }
}
