import Engine
import Evaluation
import Foundation
import ONNXIO
import Passes
import TensorCore

/// What a mixed-precision run does: an explicit plan, or a search under a budget or a size.
public struct MixedPrecisionRequest: Sendable {
    /// How the plan is chosen.
    public enum Goal: Sendable {
        /// `--precision-per-layer`: the given plan (layers not named at `rest`).
        case explicit(String, rest: LayerPrecision)
        /// `--max-drop X`: the smallest plan whose top-1 drop is within X.
        case budget(maxDrop: Double)
        /// `--max-bytes B`: the most accurate plan whose weights fit in B bytes.
        case size(maxBytes: Int)
    }

    /// The goal.
    public var goal: Goal
    /// int8 settings of the int8 layers.
    public var options = StaticQuantizationOptions()
    /// Float16 settings of the fp16 layers (opset, inputs and outputs kept float32).
    public var halfPrecision = HalfPrecisionOptions()
    /// Calibrate on the first N samples (nil: all).
    public var samples: Int?
    /// Samples per engine batch.
    public var batchSize = 64

    /// A request for `goal` with the defaults.
    public init(goal: Goal) {
        self.goal = goal
    }
}

/// Mixed precision end to end (`quantize --precision-per-layer`, `--precision mixed`):
/// calibrate once, build each plan's graph (`MixedPrecisionBuilder`), choose the plan, write
/// it as QDQ ONNX with float16 regions, and report every plan tried.
public enum MixedPrecisionConversion {
    /// Runs `request` on the float `graph` (read from `model`), writing `out` atomically.
    /// `test` (named `testName`) is where plans are measured (needed by the searches).
    public static func run(
        _ graph: Graph, model: String, out: String, request: MixedPrecisionRequest, calibration: any BatchSource,
        test: (any LabelledBatchSource)?, testName: String?, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> MixedPrecisionSummary {
        guard graph.quantization.isEmpty, graph.halfPrecision.isEmpty else {
            throw ModelPressError.invalidArgument("\(model) is already quantized or in float16.\nHINT: quantize the float32 model.")
        }
        let started = Date()
        let opset = request.halfPrecision.opset
        let prepared = try runPasses([SplitSwishGates(hardSwish: opset < 14)], on: try inferenceGraph(graph)).0
        var calibrator = Calibrator(graph: prepared, values: Set(prepared.inputs.map(\.name) + prepared.nodes.flatMap(\.outputs)))
        calibrator.batchSize = request.batchSize
        let statistics = try calibrator.run(calibration, samples: request.samples, histograms: request.options.method != .minmax, progress: progress)
        let builder = MixedPrecisionBuilder(graph: prepared, statistics: statistics, options: request.options, halfPrecision: request.halfPrecision)
        let candidates = builder.candidates
        guard !candidates.isEmpty else { throw ModelPressError.invalidArgument("\(model): no Conv or Dense layer for a precision plan.") }
        // Each plan is built once: the searches ask for its bytes and its accuracy.
        var built: [PrecisionPlan: (graph: Graph, layers: [HalfPrecisionLayer])] = [:]
        func build(_ plan: PrecisionPlan) throws -> (graph: Graph, layers: [HalfPrecisionLayer]) {
            if let known = built[plan] { return known }
            let result = try builder.build(plan)
            built[plan] = result
            return result
        }
        func planGraph(_ plan: PrecisionPlan) throws -> Graph { try build(plan).graph }
        func bytes(_ plan: PrecisionPlan) throws -> Int { try planGraph(plan).statistics().reduce(0) { $0 + $1.bytes } }
        func accuracy(_ plan: PrecisionPlan) throws -> Double {
            guard let test else { throw ModelPressError.invalidArgument("a precision search needs a labelled test set (--data).") }
            return try DatasetAccuracy.accuracy(of: try planGraph(plan), on: test, batchSize: request.batchSize, prepared: true)
        }
        let nodes = candidates.map(\.node)
        let floatAccuracy = try test.map { try DatasetAccuracy.accuracy(of: prepared, on: $0, batchSize: request.batchSize, prepared: true) }
        let result: PlanSearchResult
        switch request.goal {
        case .explicit(let text, let rest):
            let plan = try PrecisionPlan.parse(text, candidates: candidates, rest: rest)
            try checkHonoured(plan, build(plan).layers)
            let a = try test.map { _ in try accuracy(plan) } ?? .nan
            let b = try bytes(plan)
            result = PlanSearchResult(plan: plan, bytes: b, accuracy: a, trials: [PlanTrial(step: "given", precisions: plan.counts, bytes: b, accuracy: a)], met: true)
        case .budget(let maxDrop):
            guard let floatAccuracy else { throw ModelPressError.invalidArgument("--max-drop needs a labelled test set (--data).") }
            result = try PrecisionPlanSearch.underBudget(candidates: nodes, floatAccuracy: floatAccuracy, maxDrop: maxDrop, bytes: bytes, accuracy: accuracy)
        case .size(let maxBytes):
            result = try PrecisionPlanSearch.underSize(candidates: nodes, maxBytes: maxBytes, bytes: bytes, accuracy: accuracy)
        }
        let chosen = try planGraph(result.plan)
        var export = ONNXExportOptions()
        export.opset = opset
        export.optimize = false
        export.compressionSummary = try metadata(result.plan, candidates)
        let written = try ONNXExporter.write(chosen, to: out, options: export)
        let perNode = Dictionary(chosen.statistics().map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        let layers = candidates.map { c in
            MixedPrecisionSummary.Layer(
                node: c.node, layer: c.layer, precision: result.plan.layers[c.node] ?? .fp32,
                bytes: perNode[c.node]?.bytes ?? 0, floatBytes: 4 * (perNode[c.node]?.parameters ?? 0))
        }
        return MixedPrecisionSummary(
            model: model, out: out, opset: opset, goal: request.goal.description, data: testName, bytes: written.bytes,
            weightBytes: result.bytes, floatWeightBytes: prepared.statistics().reduce(0) { $0 + $1.parameters * 4 },
            floatAccuracy: floatAccuracy, accuracy: result.accuracy.isNaN ? nil : result.accuracy, met: result.met,
            seconds: Date().timeIntervalSince(started), layers: layers, trials: result.trials)
    }

    /// Fails naming the first layer a given plan puts in fp16 that cannot compute in float16
    /// (a weight beyond ±65504, values beyond the calibrated headroom, or no float16 form at the opset).
    static func checkHonoured(_ plan: PrecisionPlan, _ rows: [HalfPrecisionLayer]) throws {
        for row in rows where plan.layers[row.node] == .fp16 && row.precision != "fp16" {
            throw ModelPressError.invalidArgument(
                "--precision-per-layer: layer '\(row.layer)' (\(row.op) '\(row.node)') cannot be fp16: \(row.reason ?? "it stays float32").\nHINT: give it fp32 (or int8) in the plan.")
        }
    }

    /// `modelpress.compression` metadata: the precision of each layer, compact with sorted keys.
    static func metadata(_ plan: PrecisionPlan, _ candidates: [(node: String, layer: String)]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let layers = Dictionary(candidates.map { ($0.node, (plan.layers[$0.node] ?? .fp32).rawValue) }, uniquingKeysWith: { a, _ in a })
        return String(decoding: try encoder.encode(["precision_plan": layers]), as: UTF8.self)
    }
}

extension MixedPrecisionRequest.Goal: CustomStringConvertible {
    /// `max_drop 0.005`, `max_bytes 20000`, or the plan given.
    public var description: String {
        switch self {
        case .explicit(let text, let rest): "given: \(text) (others \(rest.rawValue))"
        case .budget(let maxDrop): "max_drop \(maxDrop)"
        case .size(let maxBytes): "max_bytes \(maxBytes)"
        }
    }
}
