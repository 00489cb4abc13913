import TensorCore

/// The measured effect of one quantized compute layer on accuracy.
///
/// Sensitivity is defined as the **accuracy recovered by leaving only this layer in float**
/// while every other planned layer stays quantized:
/// `sensitivity = accuracy(all quantized except this layer) − accuracy(all quantized)`.
/// Larger is more sensitive; it can be negative (the layer's quantization happened to help).
public struct LayerSensitivity: Sendable, Equatable {
    /// Node name and source layer (for an activation: the value's name and its producer's layer).
    public var node: String, layer: String
    /// Whether this is an activation (Add / pooling value) rather than a Conv / Dense layer.
    public var isActivation = false
    /// Top-1 accuracy with only this layer in float (others quantized as planned).
    public var accuracyWithLayerFloat: Double
    /// `accuracyWithLayerFloat − accuracy(all quantized)`.
    public var sensitivity: Double
}

/// One layer returned to float by the budget search, with the accuracy measured after it.
public struct FallbackStep: Sendable, Equatable {
    /// The layer's measured sensitivity.
    public var layer: LayerSensitivity
    /// Top-1 accuracy of the model with this and all previously returned layers in float.
    public var accuracyAfter: Double
}

/// Outcome of `AccuracyBudget.search`.
public struct AccuracyBudgetResult: Sendable {
    /// The best graph found (annotated) and the report of its quantized layers.
    public var graph: Graph, reports: [QuantizedLayerReport]
    /// Float accuracy, accuracy with every planned layer quantized, and of `graph`.
    public var floatAccuracy: Double, fullyQuantizedAccuracy: Double, finalAccuracy: Double
    /// Per-layer sensitivities (empty when the fully quantized model met the budget), most sensitive first.
    public var sensitivities: [LayerSensitivity]
    /// Layers returned to float by the search, in order (only those kept in `graph`).
    public var fallback: [FallbackStep]
    /// Whether `floatAccuracy − finalAccuracy ≤ maxDrop`.
    public var met: Bool
    /// `floatAccuracy − finalAccuracy`.
    public var drop: Double { floatAccuracy - finalAccuracy }
}

/// Accuracy-budgeted static quantization: quantize every planned layer; if top-1 drops more
/// than `maxDrop` below float, measure the sensitivity (see `LayerSensitivity`) of each Conv /
/// Dense layer and of each other quantized activation (`QuantizationPlan.activationCandidates`:
/// Add / pooling values, returned to float for all their readers) and return them to float one at a time, most sensitive first (ties in graph order),
/// re-measuring after each, until the drop is within budget. When no configuration meets it,
/// the configuration with the highest accuracy (fewest float layers on ties) is returned
/// with `met == false`. Calibration statistics are reused: excluding a layer only removes
/// annotations, it never needs a new calibration pass.
public enum AccuracyBudget {
    /// Runs the search. `accuracy` evaluates an annotated graph (fake-quantized in the engine)
    /// on the test data; `floatAccuracy` is the float model's accuracy on the same data.
    public static func search(
        _ graph: Graph, statistics: [String: ActivationStatistics], options: StaticQuantizationOptions,
        maxDrop: Double, floatAccuracy: Double,
        accuracy: (Graph) throws -> Double
    ) throws -> AccuracyBudgetResult {
        let tolerance = 1e-9
        func quantize(extra: [LayerSensitivity]) throws -> (Graph, [QuantizedLayerReport]) {
            var o = options
            o.exclude.formUnion(extra.filter { !$0.isActivation }.map(\.node))
            o.floatValues.formUnion(extra.filter(\.isActivation).map(\.node))
            return try StaticQuantizer.quantize(graph, plan: QuantizationPlan(graph: graph, options: o), statistics: statistics, options: o)
        }
        let (full, fullReports) = try quantize(extra: [])
        let fullAccuracy = try accuracy(full)
        var result = AccuracyBudgetResult(
            graph: full, reports: fullReports, floatAccuracy: floatAccuracy, fullyQuantizedAccuracy: fullAccuracy,
            finalAccuracy: fullAccuracy, sensitivities: [], fallback: [],
            met: floatAccuracy - fullAccuracy <= maxDrop + tolerance)
        if result.met { return result }
        var candidates = fullReports.map { LayerSensitivity(node: $0.node, layer: $0.layer, accuracyWithLayerFloat: 0, sensitivity: 0) }
        let producers = Dictionary(graph.nodes.map { ($0.output, $0.layer) }, uniquingKeysWith: { a, _ in a })
        for value in QuantizationPlan(graph: graph, options: options).activationCandidates {
            candidates.append(LayerSensitivity(node: value, layer: producers[value] ?? value, isActivation: true, accuracyWithLayerFloat: 0, sensitivity: 0))
        }
        var measured: [(order: Int, value: LayerSensitivity)] = []
        for (i, var candidate) in candidates.enumerated() {
            let (g, _) = try quantize(extra: [candidate])
            let a = try accuracy(g)
            candidate.accuracyWithLayerFloat = a
            candidate.sensitivity = a - fullAccuracy
            measured.append((i, candidate))
        }
        measured.sort { $0.value.sensitivity != $1.value.sensitivity ? $0.value.sensitivity > $1.value.sensitivity : $0.order < $1.order }
        result.sensitivities = measured.map(\.value)
        var returned: [LayerSensitivity] = [], steps: [FallbackStep] = []
        for s in result.sensitivities {
            returned.append(s)
            let (g, reports) = try quantize(extra: returned)
            let a = try accuracy(g)
            steps.append(FallbackStep(layer: s, accuracyAfter: a))
            if a > result.finalAccuracy + tolerance {
                (result.graph, result.reports, result.finalAccuracy, result.fallback) = (g, reports, a, steps)
            }
            if floatAccuracy - a <= maxDrop + tolerance {
                (result.graph, result.reports, result.finalAccuracy, result.fallback) = (g, reports, a, steps)
                result.met = true
                return result
            }
        }
        return result
    }
}
