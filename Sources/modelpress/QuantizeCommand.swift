import ArgumentParser
import Engine
import Evaluation
import Foundation
import ModelIO
import ONNXIO
import Quantization
import TensorCore

/// `modelpress quantize`: static int8 / int16 post-training quantization calibrated on a
/// dataset (affine or power-of-two scales), or dynamic int8 quantization, written as QDQ,
/// QOperator or dynamic ONNX (see docs/quantization.md).
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a model to int8/int16 (static, calibrated; or --dynamic) and write QDQ, QOperator or dynamic ONNX.",
        discussion: """
        Weights become symmetric int8 (per output channel by default), biases int32 with scale \
        s_in·s_w, activations asymmetric uint8 (or symmetric int8) with ranges calibrated by \
        streaming --calibration through the float model in batches. ReLU/ReLU6 after a Conv or \
        Dense layer is folded into its output range (exact with uint8). Static files run in \
        onnxruntime and in every ModelPress command; --dynamic files in onnxruntime.

        --bits 16: int16 weights, uint16/int16 activations, int32 bias (QDQ at opset 21, the \
        default then). --scheme pow2: every scale a power of two (Q7 / Q15 fixed point), so \
        each requantization is a pure shift. --dynamic: int8 weights, no calibration; Dense \
        and Conv inputs are quantized at run time (DynamicQuantizeLinear → MatMulInteger / \
        ConvInteger).
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .shortAndLong, help: "Output ONNX file (written atomically).")
    var out: String

    @Option(help: "HDF5 calibration dataset (inputs only; labels are not needed). Required unless --dynamic (which does not use it).")
    var calibration: String?

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

    @Option(help: "Activation type: uint8 (asymmetric) or int8 (symmetric); with --bits 16 these mean uint16 / int16 (also accepted by name).")
    var activations = "uint8"

    @Option(help: "Bits of weights and activations: 8, or 16 (int16 QDQ, needs --opset 21).")
    var bits = 8

    @Option(help: "Scale scheme: affine (any scale) or pow2 (scales rounded up to powers of two: Q7/Q15 fixed point, requantization is a shift).")
    var scheme = "affine"

    @Flag(help: "Dynamic quantization: int8 weights, activations quantized at run time (no --calibration).")
    var dynamic = false

    @Option(parsing: .upToNextOption, help: "Layers (or IR nodes) to keep in float.")
    var exclude: [String] = []

    @Option(help: "ONNX form: qdq (QuantizeLinear/DequantizeLinear around float ops) or qoperator (QLinearConv, Q/DQ around float ops).")
    var format = "qdq"

    @Option(help: "ONNX opset of the default domain (13–21; default 13, or 21 with --bits 16).")
    var opset: Int?

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
        var inputScale: Float?, inputZeroPoint: Int32?, outputScale: Float?, outputZeroPoint: Int32?
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
        var bits: Int, scheme: String, dynamic: Bool, opset: Int
        var calibrationSamples: Int, bytes: Int, seconds: Double
        var layers: [LayerResult], floatLayers: [String], floatActivations: [String] = []
        var budget: QuantizeBudget.Report?
        enum CodingKeys: String, CodingKey {
            case model, out, format, method, weights, activations, bytes, seconds, layers, budget, bits, scheme, dynamic, opset
            case calibrationSamples = "calibration_samples", floatLayers = "float_layers", floatActivations = "float_activations"
        }
    }

    func validate() throws {
        guard CalibrationMethod(rawValue: method) != nil else { throw ValidationError("--method must be minmax, percentile, entropy or mse, not '\(method)'.") }
        guard WeightGranularity(rawValue: weights) != nil else { throw ValidationError("--weights must be per-channel or per-tensor, not '\(weights)'.") }
        guard ["uint8", "int8", "uint16", "int16"].contains(activations) else { throw ValidationError("--activations must be uint8 or int8 (uint16 / int16 with --bits 16), not '\(activations)'.") }
        guard bits == 8 || bits == 16 else { throw ValidationError("--bits must be 8 or 16, not \(bits).") }
        if bits == 8 && activations.hasSuffix("16") { throw ValidationError("--activations \(activations) needs --bits 16.") }
        guard QuantizationScheme(rawValue: scheme) != nil else { throw ValidationError("--scheme must be affine or pow2, not '\(scheme)'.") }
        if bits == 16 {
            if let opset, opset < 21 {
                throw ValidationError("--bits 16 needs --opset 21: int16 QuantizeLinear / DequantizeLinear exist from opset 21 only (got --opset \(opset)).")
            }
            guard format == "qdq" else { throw ValidationError("--bits 16 is written as --format qdq only (QLinearConv takes 8-bit operands).") }
        }
        if dynamic {
            guard bits == 8 else { throw ValidationError("--dynamic writes int8 weights; leave out --bits 16.") }
            guard format == "qdq" else { throw ValidationError("--dynamic has its own ONNX form; leave out --format.") }
            guard maxDrop == nil else { throw ValidationError("--max-drop is for static quantization (the budget is measured in the engine, which does not run dynamic quantization).") }
        } else {
            guard calibration != nil else { throw ValidationError("--calibration is required (or use --dynamic).") }
        }
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
        if let opset { guard ONNXVersions.supportedOpsets.contains(opset) else { throw ValidationError("--opset \(opset) is not supported; choose 13 to 21.") } }
    }

    func run() throws {
        var options = StaticQuantizationOptions()
        options.method = CalibrationMethod(rawValue: method) ?? .minmax
        options.percentile = percentile
        options.weights = WeightGranularity(rawValue: weights) ?? .perChannel
        let signed = activations.hasPrefix("int")
        options.activations = bits == 16 ? (signed ? .int16 : .uint16) : (signed ? .int8 : .uint8)
        options.scheme = QuantizationScheme(rawValue: scheme) ?? .affine
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
        if dynamic {
            // Accepted (pipelines always pass their calibration data) but not needed.
            if calibration != nil, !output.quiet, !json {
                FileHandle.standardError.write(Data("note: --calibration is not used with --dynamic (activations are quantized at run time)\n".utf8))
            }
            return try runDynamic(prepared, plan: plan, options: options)
        }
        guard let calibration else { throw ValidationError("--calibration is required (or use --dynamic).") }
        let calibrationData = try DatasetFile(path: calibration, xKey: xKey, yKey: nil)
        Self.limitBLASThreadsForSmallModels(prepared)
        var calibrator = Calibrator(graph: prepared, values: plan.calibrated)
        calibrator.batchSize = batchSize
        let progress = ProgressReporter("calibrate", quiet: output.quiet || json)
        let started = Date()
        let statistics = try calibrator.run(calibrationData, samples: samples, histograms: options.method != .minmax, progress: progress.update)
        var (quantized, reports) = try StaticQuantizer.quantize(prepared, plan: plan, statistics: statistics, options: options)
        var budget: AccuracyBudgetResult?
        var floatLayers = plan.excluded
        var floatActivations: [String] = []
        var testSamples = 0
        if let maxDrop, let data {
            let test = try DatasetFile(path: data, xKey: xKey, yKey: yKey, requireLabels: true)
            testSamples = test.count
            let floatAccuracy = try QuantizeBudget.accuracy(of: prepared, on: test, batchSize: batchSize)
            let r = try AccuracyBudget.search(prepared, statistics: statistics, options: options, maxDrop: maxDrop, floatAccuracy: floatAccuracy) {
                try QuantizeBudget.accuracy(of: $0, on: test, batchSize: batchSize)
            }
            (quantized, reports, budget) = (r.graph, r.reports, r)
            floatLayers += r.fallback.filter { !$0.layer.isActivation }.map(\.layer.node)
            floatActivations = r.fallback.filter(\.layer.isActivation).map(\.layer.node)
        }

        var export = ONNXExportOptions()
        export.opset = effectiveOpset
        export.optimize = false
        export.quantizedForm = ONNXExportOptions.QuantizedForm(rawValue: format) ?? .qdq
        export.producerVersion = ModelPressVersion.string
        export.compressionSummary = try summary(samples: min(samples ?? calibrationData.count, calibrationData.count), layers: reports.count, float: floatLayers,
                                                floatActivations: floatActivations, activationType: options.activations.rawValue)
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
                        bits: options.bits, scheme: scheme, bytes: QuantizeReport.bytes(of: r.node, in: quantized),
                        sqnrDB: errors[r.node]?.sqnrDB, mse: errors[r.node]?.mse ?? 0)
        }
        let budgetReport = budget.map { QuantizeBudget.Report($0, data: data ?? "", samples: testSamples, maxDrop: maxDrop ?? 0) }
        let summaryResult = Result(model: model.model, out: out, format: format, method: method, weights: weights, activations: options.activations.rawValue,
                                   bits: options.bits, scheme: scheme, dynamic: false, opset: effectiveOpset, calibrationSamples: used, bytes: result.data.count, seconds: Date().timeIntervalSince(started),
                                   layers: layers, floatLayers: floatLayers, floatActivations: floatActivations, budget: budgetReport)
        if let reportMd { try AtomicFile.write(Data(QuantizeReport.markdown(summaryResult, budget: budget).utf8), to: reportMd) }
        if json {
            try printJSON(summaryResult)
            try failIfOverBudget(budget)
            return
        }
        guard !output.quiet else { try failIfOverBudget(budget); return }
        let rows = layers.map { r -> [String] in
            [r.node, "\(r.channels)", String(format: "%.3g…%.3g", r.weightScaleMin, r.weightScaleMax),
             String(format: "%.4g/%d", r.inputScale ?? 0, r.inputZeroPoint ?? 0),
             String(format: "%.4g/%d", r.outputScale ?? 0, r.outputZeroPoint ?? 0), r.foldedActivation ?? "", "\(r.bytes)",
             QuantizeReport.sqnr(r.sqnrDB), String(format: "%.3g", r.mse)]
        }
        print(renderTable(header: ["layer", "channels", "weight scales", "in scale/zp", "out scale/zp", "folded", "bytes", "SQNR dB", "MSE"],
                          rows: rows, numeric: [1, 6, 7, 8]))
        for name in plan.excluded { print("kept float: \(name) (--exclude)") }
        if let budget, let maxDrop { QuantizeBudget.lines(budget, maxDrop: maxDrop).forEach { print($0) } }
        let ms = Int(Date().timeIntervalSince(started) * 1000)
        let kind = "\(options.weightType.rawValue)/\(options.activations.rawValue)\(options.scheme == .pow2 ? " pow2" : "")"
        print("wrote \(out): \(kind) \(format == "qdq" ? "QDQ" : "QOperator"), \(reports.count) layers quantized, \(options.method.rawValue) calibration on \(used) samples, \(result.data.count) bytes (\(ms) ms)")
        try failIfOverBudget(budget)
    }

    /// Exit 1 (after the file and report are written) when the accuracy budget was not met.
    private func failIfOverBudget(_ budget: AccuracyBudgetResult?) throws {
        guard let budget, let maxDrop, !budget.met else { return }
        throw GateFailure(message: "quantize: accuracy budget not met: best configuration found (written to \(out)) " + String(format: "drops %.4f (float %.4f → %.4f) with %ld layer(s) returned to float; --max-drop is %.4f.\nHINT: raise --max-drop or try another --method (every Conv/Dense layer and Add/pooling activation was tried).", budget.drop, budget.floatAccuracy, budget.finalAccuracy, budget.fallback.count, maxDrop))
    }

    /// Small models (< 1M MACs per sample, like the digits fixtures) calibrate on one BLAS
    /// thread unless `OPENBLAS_NUM_THREADS` says otherwise: their GEMMs are too small to share,
    /// and OpenBLAS's idle workers spin in `sched_yield` (half the CPU time of a 0.1 s run in
    /// `perf`), which on a busy machine doubled the median wall time of `quantize cnn.onnx`.
    static func limitBLASThreadsForSmallModels(_ graph: Graph) {
        guard ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil else { return }
        let macs = graph.statistics().reduce(0) { $0 &+ $1.macs }
        guard macs < 1_000_000 else { return }
        BLAS.setThreads(1)
        BLAS.stopIdleWorkers()  // 30–50 ms of spinning CPU per small process in `perf`
    }

    /// The opset written: `--opset`, else 13 (21 with --bits 16).
    var effectiveOpset: Int { opset ?? (bits == 16 ? 21 : 13) }

    /// `modelpress.compression` metadata: the settings, compact and with sorted keys.
    func summary(samples: Int, layers: Int, float: [String], floatActivations: [String] = [], activationType: String) throws -> String {
        struct Summary: Encodable {
            var quantization: Settings
        }
        struct Settings: Encodable {
            var format: String, method: String, weights: String, activations: String
            var bits: Int, scheme: String, dynamic: Bool
            var calibration_samples: Int, quantized_layers: Int, float_layers: [String], float_activations: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let value = Summary(quantization: Settings(format: dynamic ? "dynamic" : format, method: dynamic ? "none" : method, weights: weights,
                                                   activations: activationType, bits: bits, scheme: scheme, dynamic: dynamic,
                                                   calibration_samples: samples, quantized_layers: layers, float_layers: float,
                                                   float_activations: floatActivations))
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
