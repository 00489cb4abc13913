import Engine
import Evaluation
import Foundation
import ONNXIO
import Passes
import TensorCore
import Training

/// What one post-training quantization run produced.
public struct QuantizationOutcome: Sendable {
    /// The summary (`--json`), with the file written.
    public var summary: QuantizationSummary
    /// The layers left float by request (the plan's exclusions).
    public var excluded: [String]
    /// The accuracy-budget search, when one ran.
    public var budget: AccuracyBudgetResult?
}

/// Post-training quantization end to end: plan → calibrate → quantize → accuracy budget →
/// ONNX export → per-layer error (docs/quantization.md). `modelpress quantize` is this plus
/// option parsing and printing.
public enum PostTrainingQuantization {
    /// Quantizes the float `graph` (read from `model`, named in errors) as `request` says and
    /// writes the ONNX file to `out` atomically. Static runs calibrate on `calibration`; under
    /// a budget, `test` (named `testName`) is the labelled set it is measured on; with
    /// `request.qat`, `train` is the labelled set QAT fine-tunes on. `progress(done, total)`
    /// reports calibration, `log` one line per QAT epoch.
    public static func run(
        _ graph: Graph, model: String, out: String, request: QuantizationRequest,
        calibration: (any BatchSource)?, test: (any LabelledBatchSource)? = nil, testName: String? = nil,
        train: (any LabelledBatchSource)? = nil, progress: (Int, Int) -> Void = { _, _ in }, log: (String) -> Void = { _ in }
    ) throws -> QuantizationOutcome {
        guard graph.quantization.isEmpty else {
            throw ModelPressError.invalidArgument("\(model) is already quantized.\nHINT: quantize the float model.")
        }
        guard graph.halfPrecision.isEmpty else {
            throw ModelPressError.invalidArgument("\(model) holds float16 values.\nHINT: quantize the float32 model.")
        }
        var prepared = try inferenceGraph(graph)
        // Static: where the file spells a swish Sigmoid → Mul (always) or a hard swish
        // HardSigmoid → Mul (below opset 14), the gate is a tensor of the file and gets a
        // range of its own (`SplitSwishGates`).
        if !request.dynamic { prepared = try runPasses([SplitSwishGates(hardSwish: request.effectiveOpset < 14)], on: prepared).0 }
        let options = request.options
        let known = Set(prepared.nodes.flatMap { [$0.name, $0.layer] })
        if let unknown = options.exclude.sorted().first(where: { !known.contains($0) }) {
            throw ModelPressError.invalidArgument("--exclude \(unknown): the model has no such layer (layers: \(Set(prepared.nodes.map(\.layer)).sorted().joined(separator: ", "))).")
        }
        let selectable = Set(prepared.nodes.filter { $0.op.definition.quantizationRole == .floatUnlessSelected }.map(\.op.name))
        if let unknown = options.quantizeOps.sorted().first(where: { !selectable.contains($0) }) {
            throw ModelPressError.invalidArgument(
                "--quantize-ops \(unknown): the model has no such op among those kept float by default"
                    + (selectable.isEmpty ? " (it has none)." : " (it has: \(selectable.sorted().joined(separator: ", "))).")
                    + (request.dynamic ? "\nHINT: --quantize-ops is for static quantization." : ""))
        }
        let plan = QuantizationPlan(graph: prepared, options: options)
        guard !plan.compute.isEmpty else {
            throw ModelPressError.invalidArgument("\(model): no Conv or Dense layer to quantize (excluded: \(plan.excluded.joined(separator: ", "))).")
        }
        if request.dynamic { return try runDynamic(prepared, plan: plan, model: model, out: out, request: request) }
        guard let calibration else { throw ModelPressError.invalidArgument("static quantization needs calibration data (or choose dynamic quantization).") }
        var equalized: [String: Float] = [:]
        if request.crossLayerEqualization {
            let (graph, pairs) = CrossLayerEqualization.apply(prepared)
            prepared = graph
            for pair in pairs {
                for node in [pair.first, pair.second] { equalized[node] = max(equalized[node] ?? 1, pair.maxScale) }
            }
        }
        var smoothing: SmoothQuant.Result?
        if let alpha = request.smoothQuantAlpha {
            (prepared, smoothing) = try SmoothQuant.apply(prepared, plan: plan, alpha: alpha, data: calibration, samples: request.samples, batchSize: request.batchSize)
        }
        return try runStatic(
            prepared, plan: plan, model: model, out: out, request: request, calibration: calibration,
            test: test, testName: testName, train: train, smoothing: smoothing, equalized: equalized, progress: progress, log: log)
    }

    /// The static path: calibrate, (with QAT: fine-tune and calibrate again), quantize, search
    /// the budget, export, measure errors. Errors are measured against the float model that was
    /// quantized (the fine-tuned one after QAT); the budget's drop against the original.
    static func runStatic(
        _ original: Graph, plan originalPlan: QuantizationPlan, model: String, out: String, request: QuantizationRequest,
        calibration: any BatchSource, test: (any LabelledBatchSource)?, testName: String?, train: (any LabelledBatchSource)?,
        smoothing: SmoothQuant.Result?, equalized: [String: Float], progress: (Int, Int) -> Void, log: (String) -> Void
    ) throws -> QuantizationOutcome {
        var options = request.options
        limitBLASThreadsForSmallModels(original)
        let started = Date()
        var (prepared, plan) = (original, originalPlan)
        func calibrate() throws -> [String: ActivationStatistics] {
            var calibrator = Calibrator(graph: prepared, values: plan.calibrated)
            calibrator.batchSize = request.batchSize
            return try calibrator.run(calibration, samples: request.samples, histograms: options.method != .minmax, progress: progress)
        }
        var statistics = try calibrate()
        var qatEpochs: [EpochRecord]?
        if let qat = request.qat {
            guard let train else { throw ModelPressError.invalidArgument("quantization-aware training needs a labelled training set (--train TRAIN.h5).") }
            let set = try TrainingSet(labelled: train, for: prepared)
            let epochs = qat.training.epochs
            let (tuned, records) = try qat.run(
                prepared, options: options, statistics: statistics, train: set, validation: nil, source: model,
                onEpoch: { log("qat " + EpochLine.format($0, epochs: epochs)) })
            prepared = tuned
            plan = QuantizationPlan(graph: tuned, options: options)
            statistics = try calibrate()
            qatEpochs = records
        }
        if options.biasCorrection {
            options.biasShifts = try BiasCorrection.measure(
                prepared, plan: plan, options: options, data: calibration, samples: request.samples, batchSize: request.batchSize)
        }
        var (quantized, reports) = try StaticQuantizer.quantize(prepared, plan: plan, statistics: statistics, options: options)
        var budget: AccuracyBudgetResult?
        var floatLayers = plan.excluded
        var floatActivations: [String] = []
        if let maxDrop = request.maxDrop {
            guard let test else { throw ModelPressError.invalidArgument("an accuracy budget needs a labelled test set.") }
            let accuracy = { (g: Graph) in try DatasetAccuracy.accuracy(of: g, on: test, batchSize: request.batchSize, prepared: true) }
            let r = try AccuracyBudget.search(
                prepared, statistics: statistics, options: options, maxDrop: maxDrop,
                floatAccuracy: try accuracy(original), accuracy: accuracy)
            (quantized, reports, budget) = (r.graph, r.reports, r)
            floatLayers += r.fallback.filter { !$0.layer.isActivation }.map(\.layer.node)
            floatActivations = r.fallback.filter(\.layer.isActivation).map(\.layer.node)
        }
        let used = min(request.samples ?? calibration.count, calibration.count)
        let format = request.form.rawValue
        // LSTM layers whose weights are int8 (computed in float: no activation parameters).
        let recurrent = quantized.nodes.filter { node in
            if case .recurrent = node.op { return node.inputs[1...2].contains { quantized.quantization[$0] != nil } }
            return false
        }
        var selected: [String: [String]] = [:]
        for node in quantized.nodes where options.quantizeOps.contains(node.op.name) && quantized.quantization[node.output] != nil {
            selected[node.op.name, default: []].append(node.name)
        }
        let metadata = try QuantizationSummary.compressionMetadata(
            format: format, method: options.method.rawValue, weights: options.weights.rawValue, activations: options.activations.rawValue,
            bits: options.bits, weightBits: options.fourBitWeights ? 4 : nil, biasCorrection: options.biasCorrection ? true : nil,
            qatEpochs: qatEpochs?.count, smoothQuantAlpha: request.smoothQuantAlpha,
            crossLayerEqualization: request.crossLayerEqualization ? true : nil, quantizeOps: selected.isEmpty ? nil : selected.keys.sorted(),
            scheme: options.scheme.rawValue, dynamic: false,
            samples: used, layers: reports.count + recurrent.count,
            float: floatLayers, floatActivations: floatActivations)
        let written = try write(quantized, to: out, form: request.form, request: request, metadata: metadata)
        var errors: [String: LayerQuantizationError] = [:]
        if request.measureErrors {
            var meter = try QuantizationErrorMeter(float: prepared, quantized: quantized, nodes: reports.map(\.node) + recurrent.map(\.name))
            try meter.run(calibration, samples: request.samples, batchSize: request.batchSize)
            errors = meter.byNode
        }
        let layers = reports.map { r in
            QuantizationSummary.Layer(
                node: r.node, layer: r.layer, channels: r.channels, weightScaleMin: r.minWeightScale, weightScaleMax: r.maxWeightScale,
                inputScale: r.input.scales[0], inputZeroPoint: r.input.zeroPoints[0], outputScale: r.output.scales[0],
                outputZeroPoint: r.output.zeroPoints[0], activationType: r.output.type.rawValue, foldedActivation: r.foldedActivation,
                bits: r.weightBits, scheme: options.scheme.rawValue, biasShift: r.biasShift, smoothQuantScale: smoothing?.maxScale[r.node],
                equalizationScale: equalized[r.node],
                bytes: QuantizationSummary.storedBytes(of: r.node, in: quantized),
                sqnrDB: errors[r.node]?.sqnrDB, mse: errors[r.node]?.mse ?? 0)
        }
        let recurrentLayers = recurrent.map { node in
            let scales = node.inputs[1...2].flatMap { quantized.quantization[$0]?.scales ?? [] }
            return QuantizationSummary.Layer(
                node: node.name, layer: node.layer, channels: quantized.quantization[node.inputs[1]]?.scales.count ?? 0,
                weightScaleMin: scales.min() ?? 0, weightScaleMax: scales.max() ?? 0, inputScale: nil, inputZeroPoint: nil, outputScale: nil,
                outputZeroPoint: nil, activationType: "float", foldedActivation: nil, bits: 8, scheme: options.scheme.rawValue,
                bytes: QuantizationSummary.storedBytes(of: node.name, in: quantized), sqnrDB: errors[node.name]?.sqnrDB, mse: errors[node.name]?.mse ?? 0)
        }
        let budgetReport = budget.map { QuantizationBudgetReport($0, data: testName ?? test?.path ?? "", samples: test?.count ?? 0, maxDrop: request.maxDrop ?? 0) }
        let summary = QuantizationSummary(
            model: model, out: out, format: format, method: options.method.rawValue, weights: options.weights.rawValue,
            activations: options.activations.rawValue, bits: options.bits, weightBits: options.weightType.bits,
            scheme: options.scheme.rawValue, dynamic: false,
            opset: request.effectiveOpset, calibrationSamples: used, bytes: written.bytes,
            seconds: Date().timeIntervalSince(started), layers: layers + recurrentLayers, floatLayers: floatLayers,
            floatActivations: floatActivations, budget: budgetReport, qat: qatEpochs, smoothQuantSkipped: smoothing?.skipped,
            quantizedOps: selected.isEmpty ? nil : selected)
        return QuantizationOutcome(summary: summary, excluded: plan.excluded, budget: budget)
    }

    /// The dynamic path: weight-only annotations written in the dynamic ONNX form; no calibration.
    static func runDynamic(_ prepared: Graph, plan: QuantizationPlan, model: String, out: String, request: QuantizationRequest) throws -> QuantizationOutcome {
        let options = request.options
        let started = Date()
        let (quantized, reports) = try DynamicQuantizer.quantize(prepared, plan: plan, options: options)
        let runTime = "uint8 (run time)"
        let metadata = try QuantizationSummary.compressionMetadata(
            format: "dynamic", method: "none", weights: options.weights.rawValue, activations: runTime, bits: 8,
            scheme: options.scheme.rawValue, dynamic: true, samples: 0, layers: reports.count, float: plan.excluded, floatActivations: [])
        let written = try write(quantized, to: out, form: .dynamic, request: request, metadata: metadata)
        let layers = reports.map { r in
            QuantizationSummary.Layer(
                node: r.node, layer: r.layer, channels: r.channels, weightScaleMin: r.minWeightScale, weightScaleMax: r.maxWeightScale,
                inputScale: nil, inputZeroPoint: nil, outputScale: nil, outputZeroPoint: nil,
                activationType: r.runtimeActivations ? runTime : "float", foldedActivation: nil, bits: 8,
                scheme: options.scheme.rawValue, bytes: QuantizationSummary.storedBytes(of: r.node, in: quantized), sqnrDB: nil, mse: 0)
        }
        let summary = QuantizationSummary(
            model: model, out: out, format: "dynamic", method: "none", weights: options.weights.rawValue,
            activations: runTime, bits: 8, weightBits: 8, scheme: options.scheme.rawValue, dynamic: true,
            opset: request.effectiveOpset, calibrationSamples: 0, bytes: written.bytes,
            seconds: Date().timeIntervalSince(started), layers: layers, floatLayers: plan.excluded, budget: nil)
        return QuantizationOutcome(summary: summary, excluded: plan.excluded, budget: nil)
    }

    /// Writes the annotated `graph` as ONNX in `form` at the request's opset (no further
    /// optimization: the graph is already prepared), with `metadata` as `modelpress.compression`.
    static func write(_ graph: Graph, to out: String, form: ONNXExportOptions.QuantizedForm, request: QuantizationRequest, metadata: String) throws -> ONNXExportResult {
        var export = ONNXExportOptions()
        export.opset = request.effectiveOpset
        export.optimize = false
        export.quantizedForm = form
        export.compressionSummary = metadata
        return try ONNXExporter.write(graph, to: out, options: export)
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
}
