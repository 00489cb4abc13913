import Foundation
import ONNXIO
import Quantization
import TensorCore

extension QuantizeCommand {
    /// `--dynamic`: weight-only annotations, written in the dynamic ONNX form; no calibration.
    func runDynamic(_ prepared: Graph, plan: QuantizationPlan, options: StaticQuantizationOptions) throws {
        let started = Date()
        let (quantized, reports) = try DynamicQuantizer.quantize(prepared, plan: plan, options: options)
        var export = ONNXExportOptions()
        export.opset = effectiveOpset
        export.optimize = false
        export.quantizedForm = .dynamic
        export.producerVersion = ModelPressVersion.string
        export.compressionSummary = try summary(samples: 0, layers: reports.count, float: plan.excluded, activationType: "uint8 (run time)")
        let result = try ONNXExporter.write(quantized, to: out, options: export)
        let layers = reports.map { r in
            LayerResult(node: r.node, layer: r.layer, channels: r.channels, weightScaleMin: r.minWeightScale, weightScaleMax: r.maxWeightScale,
                        inputScale: nil, inputZeroPoint: nil, outputScale: nil, outputZeroPoint: nil,
                        activationType: r.runtimeActivations ? "uint8 (run time)" : "float", foldedActivation: nil,
                        bits: 8, scheme: scheme, bytes: QuantizeReport.bytes(of: r.node, in: quantized), sqnrDB: nil, mse: 0)
        }
        let summaryResult = Result(model: model.model, out: out, format: "dynamic", method: "none", weights: weights, activations: "uint8 (run time)",
                                   bits: 8, scheme: scheme, dynamic: true, opset: effectiveOpset, calibrationSamples: 0, bytes: result.data.count,
                                   seconds: Date().timeIntervalSince(started), layers: layers, floatLayers: plan.excluded, budget: nil)
        if let reportMd { try AtomicFile.write(Data(QuantizeReport.markdown(summaryResult, budget: nil).utf8), to: reportMd) }
        if json { try printJSON(summaryResult); return }
        guard !output.quiet else { return }
        let rows = layers.map { r -> [String] in
            [r.node, "\(r.channels)", String(format: "%.3g…%.3g", r.weightScaleMin, r.weightScaleMax), r.activationType, "\(r.bytes)"]
        }
        print(renderTable(header: ["layer", "channels", "weight scales", "activations", "bytes"], rows: rows, numeric: [1, 4]))
        for name in plan.excluded { print("kept float: \(name) (--exclude)") }
        let runtime = reports.filter(\.runtimeActivations).count
        let floatCompute = reports.count - runtime
        print("wrote \(out): dynamic int8, \(runtime) layer(s) with run-time activation quantization (MatMulInteger / ConvInteger)"
              + (floatCompute > 0 ? ", \(floatCompute) float on int8 weights" : "") + ", \(result.data.count) bytes (\(Int(Date().timeIntervalSince(started) * 1000)) ms)")
    }
}
