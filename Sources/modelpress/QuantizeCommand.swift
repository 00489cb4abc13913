import ArgumentParser
import Evaluation
import Foundation
import ModelIO
import ONNXIO
import Quantization
import TensorCore

/// `modelpress quantize`: static int8 post-training quantization calibrated on a dataset,
/// written as QDQ or QOperator ONNX (see docs/quantization.md).
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a model to int8 (static, calibrated) and write QDQ or QOperator ONNX.",
        discussion: """
        Weights become symmetric int8 (per output channel by default), biases int32 with scale \
        s_in·s_w, activations asymmetric uint8 (or symmetric int8) with ranges calibrated by \
        streaming --calibration through the float model in batches. ReLU/ReLU6 after a Conv or \
        Dense layer is folded into its output range (exact with uint8). The file runs in \
        onnxruntime and in every ModelPress command.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .shortAndLong, help: "Output ONNX file (written atomically).")
    var out: String

    @Option(help: "HDF5 calibration dataset (inputs only; labels are not needed).")
    var calibration: String

    @Option(help: "Name of the calibration input dataset.")
    var xKey = "x"

    @Option(help: "Calibrate on the first N samples (default: all).")
    var samples: Int?

    @Option(help: "Activation range method: minmax, percentile, entropy or mse.")
    var method = "minmax"

    @Option(help: "Percentile of |x| kept by --method percentile, in (0, 100].")
    var percentile = 99.99

    @Option(help: "Weight granularity: per-channel or per-tensor.")
    var weights = "per-channel"

    @Option(help: "Activation type: uint8 (asymmetric) or int8 (symmetric).")
    var activations = "uint8"

    @Option(parsing: .upToNextOption, help: "Layers (or IR nodes) to keep in float.")
    var exclude: [String] = []

    @Option(help: "ONNX form: qdq (QuantizeLinear/DequantizeLinear around float ops) or qoperator (QLinearConv, Q/DQ around float ops).")
    var format = "qdq"

    @Option(help: "ONNX opset of the default domain (13–21).")
    var opset = 13

    @Option(help: "Calibration samples per batch.")
    var batchSize = 64

    @Option(help: "Accuracy budget: largest allowed top-1 drop vs float on --data (absolute fraction, 0.01 = 1 point). Layers go back to float, most sensitive first, until it holds; exit 1 if it cannot.")
    var maxDrop: Double?

    @Option(help: "Labelled HDF5 test set for --max-drop (inputs named by --x-key).")
    var data: String?

    @Option(help: "Name of the label dataset in --data.")
    var yKey = "y"

    @Option(help: "Also write the per-layer report (parameters, bytes, SQNR/MSE) as Markdown to this path (atomically).")
    var reportMd: String?

    @Flag(help: "Print one JSON object: settings, output file and per-layer quantization parameters.")
    var json = false

    /// One quantized layer in `--json` output.
    struct LayerResult: Encodable {
        var node: String, layer: String, channels: Int
        var weightScaleMin: Float, weightScaleMax: Float
        var inputScale: Float, inputZeroPoint: Int32, outputScale: Float, outputZeroPoint: Int32
        var activationType: String, foldedActivation: String?
        var bits: Int, scheme: String, bytes: Int, sqnrDB: Double?, mse: Double
        enum CodingKeys: String, CodingKey {
            case node, layer, channels, bits, scheme, bytes, mse
            case sqnrDB = "sqnr_db"
            case weightScaleMin = "weight_scale_min", weightScaleMax = "weight_scale_max"
            case inputScale = "input_scale", inputZeroPoint = "input_zero_point"
            case outputScale = "output_scale", outputZeroPoint = "output_zero_point"
            case activationType = "activation_type", foldedActivation = "folded_activation"
        }
    }

    /// `--json` output.
    struct Result: Encodable {
        var model: String, out: String, format: String, method: String, weights: String, activations: String
        var calibrationSamples: Int, bytes: Int, seconds: Double
        var layers: [LayerResult], floatLayers: [String]
        var budget: QuantizeBudget.Report?
        enum CodingKeys: String, CodingKey {
            case model, out, format, method, weights, activations, bytes, seconds, layers, budget
            case calibrationSamples = "calibration_samples", floatLayers = "float_layers"
        }
    }

    func validate() throws {
        guard CalibrationMethod(rawValue: method) != nil else { throw ValidationError("--method must be minmax, percentile, entropy or mse, not '\(method)'.") }
        guard WeightGranularity(rawValue: weights) != nil else { throw ValidationError("--weights must be per-channel or per-tensor, not '\(weights)'.") }
        guard activations == "uint8" || activations == "int8" else { throw ValidationError("--activations must be uint8 or int8, not '\(activations)'.") }
        guard ONNXExportOptions.QuantizedForm(rawValue: format) != nil else {
            throw ValidationError("--format must be qdq or qoperator, not '\(format)'.")
        }
        guard percentile > 0, percentile <= 100 else { throw ValidationError("--percentile must be in (0, 100], not \(percentile).") }
        guard samples.map({ $0 >= 1 }) ?? true else { throw ValidationError("--samples must be at least 1.") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
        if let maxDrop, !(maxDrop.isFinite && maxDrop >= 0) { throw ValidationError("--max-drop must be a number ≥ 0, not \(maxDrop).") }
        guard (maxDrop == nil) == (data == nil) else { throw ValidationError("--max-drop and --data go together (the budget is measured on --data).") }
        if let reportMd {
            let directory = URL(fileURLWithPath: reportMd).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: directory) else { throw ValidationError("--report-md \(reportMd): the directory \(directory) does not exist.") }
        }
        guard ONNXVersions.supportedOpsets.contains(opset) else { throw ValidationError("--opset \(opset) is not supported; choose 13 to 21.") }
    }

    func run() throws {
        var options = StaticQuantizationOptions()
        options.method = CalibrationMethod(rawValue: method) ?? .minmax
        options.percentile = percentile
        options.weights = WeightGranularity(rawValue: weights) ?? .perChannel
        options.activations = activations == "int8" ? .int8 : .uint8
        options.exclude = Set(exclude)

        let graph = try model.load()
        guard graph.quantization.isEmpty else {
            throw ModelPressError.invalidArgument("\(model.model) is already quantized.\nHINT: quantize the float model.")
        }
        let prepared = try inferenceGraph(graph)
        let known = Set(prepared.nodes.flatMap { [$0.name, $0.layer] })
        if let unknown = exclude.first(where: { !known.contains($0) }) {
            throw ModelPressError.invalidArgument("--exclude \(unknown): the model has no such layer (layers: \(Set(prepared.nodes.map(\.layer)).sorted().joined(separator: ", "))).")
        }
        let plan = QuantizationPlan(graph: prepared, options: options)
        guard !plan.compute.isEmpty else {
            throw ModelPressError.invalidArgument("\(model.model): no Conv or Dense layer to quantize (excluded: \(plan.excluded.joined(separator: ", "))).")
        }
        let calibrationData = try DatasetFile(path: calibration, xKey: xKey, yKey: nil)
        var calibrator = Calibrator(graph: prepared, values: plan.calibrated)
        calibrator.batchSize = batchSize
        let progress = ProgressReporter("calibrate", quiet: output.quiet || json)
        let started = Date()
        let statistics = try calibrator.run(calibrationData, samples: samples, histograms: options.method != .minmax, progress: progress.update)
        var (quantized, reports) = try StaticQuantizer.quantize(prepared, plan: plan, statistics: statistics, options: options)
        var budget: AccuracyBudgetResult?
        var floatLayers = plan.excluded
        var testSamples = 0
        if let maxDrop, let data {
            let test = try DatasetFile(path: data, xKey: xKey, yKey: yKey, requireLabels: true)
            testSamples = test.count
            let floatAccuracy = try QuantizeBudget.accuracy(of: prepared, on: test, batchSize: batchSize)
            let r = try AccuracyBudget.search(prepared, statistics: statistics, options: options, maxDrop: maxDrop, floatAccuracy: floatAccuracy) {
                try QuantizeBudget.accuracy(of: $0, on: test, batchSize: batchSize)
            }
            (quantized, reports, budget) = (r.graph, r.reports, r)
            floatLayers += r.fallback.map(\.layer.node)
        }

        var export = ONNXExportOptions()
        export.opset = opset
        export.optimize = false
        export.quantizedForm = ONNXExportOptions.QuantizedForm(rawValue: format) ?? .qdq
        export.producerVersion = ModelPressVersion.string
        export.compressionSummary = try summary(samples: min(samples ?? calibrationData.count, calibrationData.count), layers: reports.count, float: floatLayers)
        let result = try ONNXExporter.write(quantized, to: out, options: export)
        let used = min(samples ?? calibrationData.count, calibrationData.count)
        // The per-layer error pass costs one more run over the calibration data: only when
        // something shows it (the table, --json or --report-md).
        var errors: [String: LayerQuantizationError] = [:]
        if json || reportMd != nil || !output.quiet {
            var meter = try QuantizationErrorMeter(float: prepared, quantized: quantized, nodes: reports.map(\.node))
            try meter.run(calibrationData, samples: samples, batchSize: batchSize)
            errors = meter.byNode
        }
        let layers = reports.map { r in
            LayerResult(node: r.node, layer: r.layer, channels: r.channels, weightScaleMin: r.minWeightScale, weightScaleMax: r.maxWeightScale,
                        inputScale: r.input.scales[0], inputZeroPoint: r.input.zeroPoints[0], outputScale: r.output.scales[0],
                        outputZeroPoint: r.output.zeroPoints[0], activationType: r.output.type.rawValue, foldedActivation: r.foldedActivation,
                        bits: 8, scheme: "affine", bytes: QuantizeReport.bytes(of: r.node, in: quantized),
                        sqnrDB: errors[r.node]?.sqnrDB, mse: errors[r.node]?.mse ?? 0)
        }
        let budgetReport = budget.map { QuantizeBudget.Report($0, data: data ?? "", samples: testSamples, maxDrop: maxDrop ?? 0) }
        let summaryResult = Result(model: model.model, out: out, format: format, method: method, weights: weights, activations: activations,
                                   calibrationSamples: used, bytes: result.data.count, seconds: Date().timeIntervalSince(started),
                                   layers: layers, floatLayers: floatLayers, budget: budgetReport)
        if let reportMd { try AtomicFile.write(Data(QuantizeReport.markdown(summaryResult, budget: budget).utf8), to: reportMd) }
        if json {
            try printJSON(summaryResult)
            try failIfOverBudget(budget)
            return
        }
        guard !output.quiet else { try failIfOverBudget(budget); return }
        let rows = layers.map { r -> [String] in
            [r.node, "\(r.channels)", String(format: "%.3g…%.3g", r.weightScaleMin, r.weightScaleMax),
             String(format: "%.4g/%d", r.inputScale, r.inputZeroPoint),
             String(format: "%.4g/%d", r.outputScale, r.outputZeroPoint), r.foldedActivation ?? "", "\(r.bytes)",
             QuantizeReport.sqnr(r.sqnrDB), String(format: "%.3g", r.mse)]
        }
        print(renderTable(header: ["layer", "channels", "weight scales", "in scale/zp", "out scale/zp", "folded", "bytes", "SQNR dB", "MSE"],
                          rows: rows, numeric: [1, 6, 7, 8]))
        for name in plan.excluded { print("kept float: \(name) (--exclude)") }
        if let budget, let maxDrop { QuantizeBudget.lines(budget, maxDrop: maxDrop).forEach { print($0) } }
        let ms = Int(Date().timeIntervalSince(started) * 1000)
        print("wrote \(out): int8 \(format == "qdq" ? "QDQ" : "QOperator"), \(reports.count) layers quantized, \(options.method.rawValue) calibration on \(used) samples, \(result.data.count) bytes (\(ms) ms)")
        try failIfOverBudget(budget)
    }

    /// Exit 1 (after the file and report are written) when the accuracy budget was not met.
    private func failIfOverBudget(_ budget: AccuracyBudgetResult?) throws {
        guard let budget, let maxDrop, !budget.met else { return }
        throw GateFailure(message: "quantize: accuracy budget not met: best configuration found (written to \(out)) " + String(format: "drops %.4f (float %.4f → %.4f) with %ld layer(s) returned to float; --max-drop is %.4f.\nHINT: raise --max-drop, try another --method, or --exclude layers that are not Conv/Dense (Add, pooling) too.", budget.drop, budget.floatAccuracy, budget.finalAccuracy, budget.fallback.count, maxDrop))
    }

    /// `modelpress.compression` metadata: the settings, compact and with sorted keys.
    private func summary(samples: Int, layers: Int, float: [String]) throws -> String {
        struct Summary: Encodable {
            var quantization: Settings
        }
        struct Settings: Encodable {
            var format: String, method: String, weights: String, activations: String
            var calibration_samples: Int, quantized_layers: Int, float_layers: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let value = Summary(quantization: Settings(format: format, method: method, weights: weights, activations: activations,
                                                   calibration_samples: samples, quantized_layers: layers, float_layers: float))
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
