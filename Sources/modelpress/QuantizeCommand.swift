import ArgumentParser
import Evaluation
import Foundation
import ModelIO
import ONNXIO
import Quantization
import TensorCore

/// `modelpress quantize`: static int8 / int16 post-training quantization calibrated on a
/// dataset (affine or power-of-two scales), dynamic int8 quantization, written as QDQ,
/// QOperator or dynamic ONNX, or float16 (see docs/quantization.md).
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a model to int8/int16 (static, calibrated; or --dynamic) and write QDQ, QOperator or dynamic ONNX; or convert it to float16.",
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

            --precision fp16: float16 weights and computation, inputs and outputs float32 unless \
            --no-keep-io-types, one Cast per value that crosses between float16 and float32. Layers \
            whose weights exceed float16's ±65504, whose values exceed 65504/4 on --calibration (when \
            given), or whose op has no safe float16 form at --opset stay float32, each with its reason. \
            --precision fp16-weights: weights stored float16, computation float32.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .shortAndLong, help: "Output ONNX file (written atomically).")
    var out: String

    @Option(help: "HDF5 calibration dataset (inputs only; labels are not needed). Required unless --dynamic (which does not use it); optional with --precision fp16, where it checks value ranges and measures the drift.")
    var calibration: String?

    @Option(
        help:
            "int8 (integer quantization; --bits 16 for int16), fp16 (float16 weights and computation), fp16-weights (float16 weights, float32 computation), int4-weights or int8-weights (Dense and Embedding weights in blocks, float activations)."
    )
    var precision = QuantizationPrecision.int8

    @Option(help: "With --precision int4-weights / int8-weights: weights per block along the input dimension (16, 32, 64, 128 or 256).")
    var blockSize = 32

    @Option(help: "With --precision int4-weights / int8-weights: symmetric (signed, zero point 0) or asymmetric (unsigned, a zero point per block).")
    var weightScheme = WeightOnlyOptions.Scheme.symmetric

    @Option(help: "With --precision int4-weights / int8-weights: rtn (each block's full range) or mse (the clipping of the range with the least squared error).")
    var blockScales = WeightOnlyOptions.ScaleSearch.mse

    @Option(
        help:
            "With --precision int4-weights / int8-weights: float16 (the default: 2 bytes per block) or float32 block scales; float32 with --allow-contrib-ops, whose MatMulNBits takes float32 scales."
    )
    var scaleType: WeightOnlyOptions.ScaleType?

    @Flag(help: "With --precision int4-weights / int8-weights: write Dense layers as onnxruntime's com.microsoft MatMulNBits (not standard ONNX).")
    var allowContribOps = false

    @Flag(
        help:
            "With --precision int4-weights / int8-weights: scale each Dense input channel by its mean |x| on --calibration (to a power chosen per layer) before quantizing, to protect salient channels; adds a Mul before the layer."
    )
    var activationAware = false

    @Flag(inversion: .prefixedNo, help: "With --precision fp16: keep graph inputs and outputs float32 (the default), or declare them float16.")
    var keepIOTypes = true

    @Option(help: "A precision per Conv / Dense layer, LAYER=int8|int16|fp16|fp32 comma-separated; layers not named take --precision (int8 or fp16). int16 layers need opset 21 (the default then).")
    var precisionPerLayer: String?

    @Option(help: "With --precision mixed: the most accurate plan whose weights fit in this many bytes (measured on --data).")
    var maxBytes: Int?

    @Option(help: "With --precision mixed: also write the plans tried (top-1 vs weight bytes, the chosen one marked) as an SVG chart (atomically).")
    var svg: String?

    @Option(help: "Name of the calibration input dataset; one per model input, comma-separated, for several inputs.")
    var xKey = "x"

    @Option(help: "Calibrate on the first N samples (default: all).")
    var samples: Int?

    @Option(help: "Activation range method.")
    var method = CalibrationMethod.minmax

    @Option(help: "Percentile of |x| kept by --method percentile, in (0, 100].")
    var percentile = 99.99

    @Option(help: "Weight granularity.")
    var weights = WeightGranularity.perChannel

    @Option(help: "Activation type: uint8 (asymmetric) or int8 (symmetric); with --bits 16 these mean uint16 / int16 (also accepted by name).")
    var activations = QuantizedElementType.uint8

    @Option(help: "Bits of weights and activations: 8, or 16 (int16 QDQ, needs --opset 21).")
    var bits = 8

    @Option(help: "Bits of Conv / Dense weights: 8 (default), or 4 (int4 per channel, 8-bit activations; QDQ at opset 21).")
    var weightBits = 8

    @OptionGroup(title: "Quantization-aware training") var qat: QATOptions

    @Flag(
        help:
            "Cross-layer equalization: rescale the channels of Conv/Dense pairs joined by ReLU or max pooling (depthwise-separable blocks above all) so both layers' channel ranges match; the float function is unchanged."
    )
    var crossLayerEqualization = false

    @Flag(help: "SmoothQuant: move the outlier channels of Dense inputs into the Dense weights (factors folded into the LayerNorm or Dense before), measured on the calibration data.")
    var smoothquant = false

    @Option(help: "SmoothQuant migration strength α in [0, 1]: 0 leaves the activations alone, 1 moves all of their range into the weights.")
    var smoothquantAlpha: Float = 0.5

    @Flag(help: "Bias correction: subtract from each quantized Conv / Dense bias the mean output shift its quantized weights cause on the calibration data (one more pass).")
    var biasCorrection = false

    @Option(help: "Scale scheme: affine (any scale) or pow2 (scales rounded up to powers of two: Q7/Q15 fixed point, requantization is a shift).")
    var scheme = QuantizationScheme.affine

    @Flag(help: "Dynamic quantization: int8 weights, activations quantized at run time (no --calibration).")
    var dynamic = false

    @Flag(help: "7-bit int8 weights (−64…64), like onnxruntime's reduce_range: for x86 CPUs without VNNI, whose uint8×int8 kernels saturate on full-range weights.")
    var reduceRange = false

    @Flag(help: "Also store Embedding tables as int8, one scale per row (smaller text models; onnxruntime's quantize_static keeps them float).")
    var int8Tables = false

    @Flag(help: "Keep LSTM weights float32 (static and dynamic int8 store them as int8 per output column by default, computed in float).")
    var floatRecurrent = false

    @Option(parsing: .upToNextOption, help: "Layers (or IR nodes) to keep in float.")
    var exclude: [String] = []

    @Option(
        help:
            "Static int8: ops kept float by default to compute between int8 Q/DQ pairs instead, comma-separated: MatMul (the product of two activations, attention's Q·Kᵀ and A·V), Softmax, LayerNormalization."
    )
    var quantizeOps: String?

    @Option(help: "ONNX form: qdq (QuantizeLinear/DequantizeLinear around float ops) or qoperator (QLinearConv, Q/DQ around float ops).")
    var format = ONNXExportOptions.QuantizedForm.qdq

    @Option(help: "ONNX opset of the default domain (\(ONNXVersions.supportedOpsetText); default \(ONNXVersions.defaultOpset), or \(ONNXVersions.int16QuantizationOpset) with --bits 16).")
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

    func validate() throws {
        try validateMixed()
        if precision != .int8 && precision != .mixed {
            let what = precision.weightOnlyBits == nil ? "float16" : "weight-only blocks"
            guard !dynamic, bits == 8, format == .qdq, maxDrop == nil, !reduceRange else {
                throw ValidationError("--precision \(precision.rawValue) writes \(what): leave out --dynamic, --bits, --format, --reduce-range and --max-drop (gate the result with `modelpress verify`).")
            }
        }
        if precision.weightOnlyBits == nil {
            guard !allowContribOps, !activationAware, scaleType == nil else {
                throw ValidationError("--allow-contrib-ops, --activation-aware and --scale-type are for --precision int4-weights / int8-weights.")
            }
        } else {
            guard !activationAware || calibration != nil else { throw ValidationError("--activation-aware needs --calibration (the activations it weighs channels by).") }
            guard [16, 32, 64, 128, 256].contains(blockSize) else {
                throw ValidationError("--block-size must be 16, 32, 64, 128 or 256 (a power of two, as MatMulNBits requires), not \(blockSize).")
            }
        }
        guard activations.bits == 8 || activations.bits == 16 else {
            throw ValidationError("--activations must be uint8 or int8 (uint16 / int16 with --bits 16), not \(activations.rawValue).")
        }
        guard bits == 8 || bits == 16 else { throw ValidationError("--bits must be 8 or 16, not \(bits).") }
        if bits == 8 && activations.bits == 16 { throw ValidationError("--activations \(activations.rawValue) needs --bits 16.") }
        guard format != .dynamic else { throw ValidationError("--format must be qdq or qoperator; dynamic quantization is --dynamic.") }
        if bits == 16 {
            if let opset, opset < 21 {
                throw ValidationError("--bits 16 needs --opset 21: int16 QuantizeLinear / DequantizeLinear exist from opset 21 only (got --opset \(opset)).")
            }
            guard format == .qdq else { throw ValidationError("--bits 16 is written as --format qdq only (QLinearConv takes 8-bit operands).") }
            guard !reduceRange else { throw ValidationError("--reduce-range is for int8 weights (uint8×int8 kernels); leave it out with --bits 16.") }
        }
        if weightBits != 8 {
            guard weightBits == 4 else { throw ValidationError("--weight-bits must be 8 or 4, not \(weightBits).") }
            guard bits == 8, !dynamic, format == .qdq, !reduceRange, precision == .int8, precisionPerLayer == nil else {
                throw ValidationError(
                    "--weight-bits 4 is for static quantization with 8-bit activations, written as QDQ: leave out --bits 16, --dynamic, --format qoperator, --reduce-range, --precision and --precision-per-layer.")
            }
            if let opset, opset < 21 {
                throw ValidationError("--weight-bits 4 needs --opset 21: int4 DequantizeLinear exists from opset 21 only (got --opset \(opset)).")
            }
        }
        if biasCorrection || qat.qat || smoothquant || crossLayerEqualization, dynamic || precision != .int8 || precisionPerLayer != nil {
            throw ValidationError(
                "--bias-correction, --cross-layer-equalization, --smoothquant and --qat are for static quantization (without --dynamic, --precision or --precision-per-layer).")
        }
        guard (0...1).contains(smoothquantAlpha) else { throw ValidationError("--smoothquant-alpha must be in [0, 1], not \(smoothquantAlpha).") }
        if quantizeOps != nil, dynamic || precision != .int8 || precisionPerLayer != nil {
            throw ValidationError("--quantize-ops is for static int8 quantization (without --dynamic, --precision or --precision-per-layer).")
        }
        if floatRecurrent, precision != .int8 || precisionPerLayer != nil {
            throw ValidationError("--float-recurrent is for int8 quantization (static or --dynamic, without --precision or --precision-per-layer).")
        }
        if int8Tables, dynamic || precision != .int8 || precisionPerLayer != nil {
            throw ValidationError("--int8-tables is for static int8 quantization (without --dynamic, --precision or --precision-per-layer).")
        }
        if dynamic {
            guard bits == 8 else { throw ValidationError("--dynamic writes int8 weights; leave out --bits 16.") }
            guard format == .qdq else { throw ValidationError("--dynamic has its own ONNX form; leave out --format.") }
            guard maxDrop == nil else { throw ValidationError("--max-drop is for static quantization (the budget is measured in the engine, which does not run dynamic quantization).") }
        } else if precision == .int8 || precision == .mixed {
            guard calibration != nil else { throw ValidationError("--calibration is required (or use --dynamic).") }
        }
        guard percentile > 0, percentile <= 100 else { throw ValidationError("--percentile must be in (0, 100], not \(percentile).") }
        guard samples.map({ $0 >= 1 }) ?? true else { throw ValidationError("--samples must be at least 1.") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
        if let maxDrop, !(maxDrop.isFinite && maxDrop >= 0) { throw ValidationError("--max-drop must be a number ≥ 0, not \(maxDrop).") }
        let measuresPlans = precision == .mixed || precisionPerLayer != nil
        guard (maxDrop == nil) == (data == nil) || (measuresPlans && maxDrop == nil) else {
            throw ValidationError("--max-drop and --data go together (the budget is measured on --data).")
        }
        if let reportMd {
            let directory = URL(fileURLWithPath: reportMd).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: directory) else { throw ValidationError("--report-md \(reportMd): the directory \(directory) does not exist.") }
        }
        if let opset { try asUsageError { try ONNXVersions.validate(opset: opset) } }
    }

    /// The library request from the options.
    var request: QuantizationRequest {
        var r = QuantizationRequest()
        r.options.method = method
        r.options.percentile = percentile
        r.options.weights = weights
        r.options.activations = QuantizationRequest.activationType(activations, bits: bits)
        r.options.scheme = scheme
        r.options.reduceRange = reduceRange
        r.options.fourBitWeights = weightBits == 4
        r.options.biasCorrection = biasCorrection
        r.qat = qat.training
        r.smoothQuantAlpha = smoothquant ? smoothquantAlpha : nil
        r.crossLayerEqualization = crossLayerEqualization
        r.options.int8Tables = int8Tables
        r.options.recurrentWeights = !floatRecurrent
        r.options.exclude = Set(exclude)
        r.options.quantizeOps = Set((quantizeOps ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        r.dynamic = dynamic
        r.form = format
        r.opset = opset
        r.samples = samples
        r.batchSize = batchSize
        r.maxDrop = maxDrop
        // The per-layer error pass costs one more run over the calibration data: only when
        // something shows it (the table, --json or --report-md).
        r.measureErrors = json || reportMd != nil || !output.quiet
        return r
    }

    func run() throws {
        let graph = try model.load(samples: try calibration.map { try DatasetFile(path: $0, xKey: xKey, yKey: nil).sampleShapes } ?? [], work: .rewrite)
        if precision == .mixed || precisionPerLayer != nil { return try runMixed(graph) }
        if let form = precision.halfPrecisionForm { return try runHalfPrecision(graph, form: form) }
        if let bits = precision.weightOnlyBits { return try runWeightOnly(graph, bits: bits) }
        if dynamic, calibration != nil, !output.quiet, !json {
            // Accepted (pipelines always pass their calibration data) but not needed.
            FileHandle.standardError.writeBestEffort(Data("note: --calibration is not used with --dynamic (activations are quantized at run time)\n".utf8))
        }
        let calibrationData = try (dynamic ? nil : calibration).map { try DatasetFile(path: $0, xKey: xKey, yKey: nil) }
        let test = try data.map { try DatasetFile(path: $0, xKey: xKey, yKey: yKey, requireLabels: true) }
        let train = try qat.train.map { try DatasetFile(path: $0, xKey: xKey, yKey: yKey, requireLabels: true) }
        let progress = ProgressReporter("calibrate", quiet: output.quiet || json)
        let outcome = try PostTrainingQuantization.run(
            graph, model: model.model, out: out, request: request, calibration: calibrationData,
            test: test, testName: data, train: train, progress: progress.update, log: { line in if !output.quiet && !json { print(line) } })
        if let reportMd { try AtomicFile.write(Data(outcome.summary.markdown(budget: outcome.budget).utf8), to: reportMd) }
        if json {
            try printJSON(outcome.summary)
        } else if !output.quiet {
            print(dynamic ? dynamicLines(outcome) : staticLines(outcome))
        }
        try failIfOverBudget(outcome.budget)
    }

    /// Exit 1 (after the file and report are written) when the accuracy budget was not met.
    private func failIfOverBudget(_ budget: AccuracyBudgetResult?) throws {
        guard let budget, let maxDrop, !budget.met else { return }
        throw GateFailure(
            message: "quantize: accuracy budget not met: best configuration found (written to \(out)) "
                + String(
                    format:
                        "drops %.4f (float %.4f → %.4f) with %ld layer(s) returned to float; --max-drop is %.4f.\nHINT: raise --max-drop or try another --method (every Conv/Dense layer and Add/pooling activation was tried).",
                    budget.drop, budget.floatAccuracy, budget.finalAccuracy, budget.fallback.count, maxDrop))
    }
}
