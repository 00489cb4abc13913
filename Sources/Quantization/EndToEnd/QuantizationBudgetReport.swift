import Evaluation
import Foundation

/// The `budget` object of a quantization summary: the accuracy-budget search, layer by layer.
public struct QuantizationBudgetReport: Encodable, Sendable {
    /// One candidate's measured sensitivity.
    public struct Layer: Encodable, Sendable {
        /// IR node, source layer, `layer` or `activation`, accuracy with only it float, and that minus all-quantized.
        public var node: String, layer: String, kind: String, accuracyWithLayerFloat: Double, sensitivity: Double
        enum CodingKeys: String, CodingKey {
            case node, layer, kind, sensitivity
            case accuracyWithLayerFloat = "accuracy_with_layer_float"
        }
    }
    /// One candidate returned to float.
    public struct Step: Encodable, Sendable {
        /// IR node, source layer, kind, sensitivity, and the accuracy after returning it.
        public var node: String, layer: String, kind: String, sensitivity: Double, accuracyAfter: Double
        enum CodingKeys: String, CodingKey {
            case node, layer, kind, sensitivity
            case accuracyAfter = "accuracy_after"
        }
    }
    /// Test set, its size and the budget.
    public var data: String, samples: Int, maxDrop: Double
    /// Accuracies and whether the budget holds.
    public var floatAccuracy: Double, fullyQuantizedAccuracy: Double, accuracy: Double, drop: Double, met: Bool
    /// What sensitivity means, each candidate's, and the candidates returned to float in order.
    public var sensitivity: String, sensitivities: [Layer], returnedToFloat: [Step]
    enum CodingKeys: String, CodingKey {
        case data, samples, accuracy, drop, met, sensitivity, sensitivities
        case maxDrop = "max_drop", floatAccuracy = "float_accuracy", fullyQuantizedAccuracy = "fully_quantized_accuracy"
        case returnedToFloat = "returned_to_float"
    }

    /// The report of the search `r` on `data` (`samples` samples) under `maxDrop`.
    public init(_ r: AccuracyBudgetResult, data: String, samples: Int, maxDrop: Double) {
        self.data = data
        self.samples = samples
        self.maxDrop = maxDrop
        floatAccuracy = r.floatAccuracy
        fullyQuantizedAccuracy = r.fullyQuantizedAccuracy
        accuracy = r.finalAccuracy
        drop = r.drop
        met = r.met
        sensitivity = "accuracy with only this layer in float minus accuracy with all layers quantized"
        sensitivities = r.sensitivities.map { Layer(node: $0.node, layer: $0.layer, kind: $0.kind, accuracyWithLayerFloat: $0.accuracyWithLayerFloat, sensitivity: $0.sensitivity) }
        returnedToFloat = r.fallback.map { Step(node: $0.layer.node, layer: $0.layer.layer, kind: $0.layer.kind, sensitivity: $0.layer.sensitivity, accuracyAfter: $0.accuracyAfter) }
    }
}

extension LayerSensitivity {
    /// `layer` (Conv / Dense) or `activation` (an Add / pooling value kept float for all readers).
    public var kind: String { isActivation ? "activation" : "layer" }
    /// The name shown for a candidate: the node, or `value (activation)`.
    public var label: String { isActivation ? "\(node) (activation)" : node }
}

extension AccuracyBudgetResult {
    /// Human-readable lines printed after the layer table: accuracies, the sensitivity table, the layers kept float.
    public func lines(maxDrop: Double) -> [String] {
        var out = [
            String(
                format: "accuracy: float %.4f, all quantized %.4f, final %.4f (drop %.4f, budget %.4f)",
                floatAccuracy, fullyQuantizedAccuracy, finalAccuracy, drop, maxDrop)
        ]
        if !sensitivities.isEmpty {
            let rows = sensitivities.map { s -> [String] in
                [s.label, String(format: "%.4f", s.accuracyWithLayerFloat), String(format: "%+.4f", s.sensitivity), outcome(of: s)]
            }
            out.append(renderTable(header: ["layer", "acc. with layer float", "sensitivity", "result"], rows: rows, numeric: [1, 2]))
        }
        for s in fallback {
            out.append(
                "kept float: \(s.layer.label) "
                    + String(
                        format: "(sensitivity %+.4f: accuracy %.4f with it float vs %.4f all quantized; %.4f after returning it)",
                        s.layer.sensitivity, s.layer.accuracyWithLayerFloat, fullyQuantizedAccuracy, s.accuracyAfter))
        }
        return out
    }

    /// `float (accuracy after: …)` for a candidate returned to float, else `int8`.
    func outcome(of s: LayerSensitivity) -> String {
        fallback.first { $0.layer.node == s.node }.map { String(format: "float (accuracy after: %.4f)", $0.accuracyAfter) } ?? "int8"
    }
}
