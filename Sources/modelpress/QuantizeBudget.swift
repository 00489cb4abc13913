import Engine
import Evaluation
import Foundation
import ModelIO
import Quantization
import TensorCore

/// `--max-drop` support of `modelpress quantize`: accuracy of annotated graphs on the test set
/// and the budget section of the report.
enum QuantizeBudget {
    /// Top-1 accuracy of `graph` (prepared for inference, possibly annotated: the engine
    /// fake-quantizes annotated values exactly as the exported QDQ file does) over `data`.
    static func accuracy(of graph: Graph, on data: DatasetFile, batchSize: Int) throws -> Double {
        guard graph.outputs.count >= 1, graph.outputs[0].shape.count == 2, let classes = graph.outputs[0].shape.last, classes >= 2 else {
            throw ModelPressError.invalidArgument("--max-drop measures top-1 accuracy: the model's output must be N×classes")
        }
        guard graph.inputs.count == 1 else {
            throw ModelPressError.invalidArgument("--max-drop needs a single-input model (this one has \(graph.inputs.count))")
        }
        let executor = Executor(graph: graph)
        let shape = try data.feedShape(for: graph.inputs[0].shape)
        var metrics = ClassificationMetrics(classes: classes)
        var start = 0
        while start < data.count {
            let rows = start..<min(start + batchSize, data.count)
            let scores = try executor.run(try data.inputs(rows, as: shape), threads: BLAS.threads)
            metrics.add(scores: scores, labels: try data.labels(rows, classes: classes))
            start = rows.upperBound
        }
        return metrics.accuracy
    }

    /// The `budget` object of `--json`.
    struct Report: Encodable {
        /// One layer's measured sensitivity.
        struct Layer: Encodable {
            var node: String, layer: String, kind: String, accuracyWithLayerFloat: Double, sensitivity: Double
            enum CodingKeys: String, CodingKey {
                case node, layer, kind, sensitivity
                case accuracyWithLayerFloat = "accuracy_with_layer_float"
            }
        }
        /// One layer returned to float.
        struct Step: Encodable {
            var node: String, layer: String, kind: String, sensitivity: Double, accuracyAfter: Double
            enum CodingKeys: String, CodingKey {
                case node, layer, kind, sensitivity
                case accuracyAfter = "accuracy_after"
            }
        }
        var data: String, samples: Int, maxDrop: Double
        var floatAccuracy: Double, fullyQuantizedAccuracy: Double, accuracy: Double, drop: Double, met: Bool
        var sensitivity: String, sensitivities: [Layer], returnedToFloat: [Step]
        enum CodingKeys: String, CodingKey {
            case data, samples, accuracy, drop, met, sensitivity, sensitivities
            case maxDrop = "max_drop", floatAccuracy = "float_accuracy", fullyQuantizedAccuracy = "fully_quantized_accuracy"
            case returnedToFloat = "returned_to_float"
        }

        init(_ r: AccuracyBudgetResult, data: String, samples: Int, maxDrop: Double) {
            self.data = data
            self.samples = samples
            self.maxDrop = maxDrop
            floatAccuracy = r.floatAccuracy
            fullyQuantizedAccuracy = r.fullyQuantizedAccuracy
            accuracy = r.finalAccuracy
            drop = r.drop
            met = r.met
            sensitivity = "accuracy with only this layer in float minus accuracy with all layers quantized"
            sensitivities = r.sensitivities.map { Layer(node: $0.node, layer: $0.layer, kind: kind($0), accuracyWithLayerFloat: $0.accuracyWithLayerFloat, sensitivity: $0.sensitivity) }
            returnedToFloat = r.fallback.map { Step(node: $0.layer.node, layer: $0.layer.layer, kind: kind($0.layer), sensitivity: $0.layer.sensitivity, accuracyAfter: $0.accuracyAfter) }
        }
    }

    /// `layer` (Conv / Dense) or `activation` (an Add / pooling value kept float for all readers).
    static func kind(_ s: LayerSensitivity) -> String { s.isActivation ? "activation" : "layer" }

    /// The name shown for a candidate: the node, or `value (activation)`.
    static func label(_ s: LayerSensitivity) -> String { s.isActivation ? "\(s.node) (activation)" : s.node }

    /// Human-readable budget lines printed after the layer table.
    static func lines(_ r: AccuracyBudgetResult, maxDrop: Double) -> [String] {
        var out = [String(format: "accuracy: float %.4f, all quantized %.4f, final %.4f (drop %.4f, budget %.4f)",
                          r.floatAccuracy, r.fullyQuantizedAccuracy, r.finalAccuracy, r.drop, maxDrop)]
        if !r.sensitivities.isEmpty {
            let rows = r.sensitivities.map { s -> [String] in
                let step = r.fallback.first { $0.layer.node == s.node }
                return [label(s), String(format: "%.4f", s.accuracyWithLayerFloat), String(format: "%+.4f", s.sensitivity),
                        step.map { String(format: "float (accuracy after: %.4f)", $0.accuracyAfter) } ?? "int8"]
            }
            out.append(renderTable(header: ["layer", "acc. with layer float", "sensitivity", "result"], rows: rows, numeric: [1, 2]))
        }
        for s in r.fallback {
            out.append("kept float: \(label(s.layer)) " + String(format: "(sensitivity %+.4f: accuracy %.4f with it float vs %.4f all quantized; %.4f after returning it)",
                                                              s.layer.sensitivity, s.layer.accuracyWithLayerFloat, r.fullyQuantizedAccuracy, s.accuracyAfter))
        }
        return out
    }
}
