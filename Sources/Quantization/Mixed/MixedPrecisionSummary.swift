import Evaluation
import Foundation

/// The outcome of a mixed-precision run (the `--json` object), its Markdown report and SVG chart.
public struct MixedPrecisionSummary: Encodable, Sendable {
    /// One Conv / Dense layer of the chosen plan.
    public struct Layer: Encodable, Sendable {
        /// IR node and source layer.
        public var node: String, layer: String
        /// Its precision.
        public var precision: LayerPrecision
        /// Bytes of its weights in the plan, and in float32.
        public var bytes: Int, floatBytes: Int

        enum CodingKeys: String, CodingKey {
            case node, layer, precision, bytes
            case floatBytes = "float_bytes"
        }
    }

    /// Model and output paths, the opset, what was asked, and the test data plans were measured on.
    public var model: String, out: String, opset: Int, goal: String, data: String?
    /// Bytes of the file written; weight bytes of the plan and in float32.
    public var bytes: Int, weightBytes: Int, floatWeightBytes: Int
    /// Top-1 of the float model and of the chosen plan on the test data (nil without it).
    public var floatAccuracy: Double?, accuracy: Double?
    /// Whether the chosen plan meets the budget or size.
    public var met: Bool
    /// Wall time.
    public var seconds: Double
    /// The chosen plan, layer by layer.
    public var layers: [Layer]
    /// Every plan measured, in order.
    public var trials: [PlanTrial]

    enum CodingKeys: String, CodingKey {
        case model, out, opset, goal, data, bytes, met, seconds, layers, trials, accuracy
        case weightBytes = "weight_bytes", floatWeightBytes = "float_weight_bytes", floatAccuracy = "float_accuracy"
    }

    /// The plans tried as accuracy against weight bytes, the chosen plan marked.
    public var svg: String {
        let tried = trials.sorted { $0.bytes < $1.bytes }.map { (x: Double($0.bytes), y: $0.accuracy) }
        var chart = LineChartSVG(
            title: "Precision plans of \(URL(fileURLWithPath: model).lastPathComponent): top-1 vs weight bytes", xLabel: "weight bytes",
            yLabel: "top-1 accuracy",
            series: [.init(name: "plans tried", points: tried), .init(name: "chosen", points: accuracy.map { [(x: Double(weightBytes), y: $0)] } ?? [])])
        if let floatAccuracy { chart.references = [.init(y: floatAccuracy, label: "float32")] }
        chart.yTickFormat = "%.1f%%"
        chart.yScale = 100
        return chart.render()
    }

    /// The report as Markdown (`--report-md`).
    public var markdown: String {
        func percent(_ a: Double?) -> String { a.map { String(format: "%.2f %%", 100 * $0) } ?? "–" }
        var lines = [
            "# Precision plan: \(model)", "",
            "Goal \(goal)\(data.map { " on \($0)" } ?? ""): \(met ? "met" : "NOT met"). Float32 top-1 \(percent(floatAccuracy)), chosen plan \(percent(accuracy)); "
                + String(format: "weights %d bytes (%.3f× float32), file %d bytes, opset %d.", weightBytes, Double(weightBytes) / Double(max(1, floatWeightBytes)), bytes, opset),
            "", "| node | layer | precision | bytes | float bytes |", "|---|---|---|---|---|",
        ]
        lines += layers.map { "| \($0.node) | \($0.layer) | \($0.precision.rawValue) | \($0.bytes) | \($0.floatBytes) |" }
        lines += ["", "Plans tried:", "", "| # | step | layers | weight bytes | top-1 |", "|---|---|---|---|---|"]
        lines += trials.enumerated().map { "| \($0.offset + 1) | \($0.element.step) | \($0.element.precisions) | \($0.element.bytes) | \(percent($0.element.accuracy)) |" }
        return lines.joined(separator: "\n") + "\n"
    }
}
