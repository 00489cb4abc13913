import ArgumentParser
import Foundation
import ONNXIO
import Passes

/// `modelpress export`: write a model as standard ONNX (BatchNorm folded, channels-last
/// flatten folded into weights), atomically and deterministically.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model as a standard ONNX file (opset \(ONNXVersions.defaultOpset) by default, \(ONNXVersions.supportedOpsetText)).",
        discussion: """
            The file uses the default ai.onnx domain only, names nodes and tensors after the source \
            layers, declares a symbolic batch dimension N, and carries metadata_props \
            modelpress.source_sha256 and modelpress.compression. The same MODEL and options always \
            give the same bytes. --input-layout nchw declares image inputs N×C×H×W and drops the \
            model's leading NHWC→NCHW transpose.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .shortAndLong, help: "Output ONNX file (written atomically).")
    var out: String

    @Option(help: "ONNX opset of the default domain (\(ONNXVersions.supportedOpsetText)).")
    var opset = ONNXVersions.defaultOpset

    @Option(help: "Layout of image inputs in the ONNX file: nhwc (as the model declares them) or nchw.")
    var inputLayout = ONNXExportOptions.InputLayout.nhwc

    @Flag(name: .shortAndLong, help: "List every rewrite the export passes made.")
    var verbose = false

    @Flag(help: "Keep initializers of 1 KiB or more in OUT.data beside the model (ONNX external data; automatic past 2 GB).")
    var externalData = false

    func validate() throws {
        try asUsageError { try ONNXVersions.validate(opset: opset) }
    }

    func run() throws {
        let graph = try model.load(work: .rewrite)
        var options = ONNXExportOptions()
        options.opset = opset
        options.inputLayout = inputLayout
        options.externalData = externalData
        let started = Date()
        let result = try ONNXExporter.write(graph, to: out, options: options)
        guard !output.quiet else { return }
        for report in result.reports where !report.changed.isEmpty || !report.skipped.isEmpty {
            print("\(report.pass): \(report.changed.count) rewritten, \(report.skipped.count) kept")
            for line in report.changed where verbose { print("  \(line)") }
            for skip in report.skipped { print("  kept '\(skip.node)': \(skip.reason)") }
        }
        let ms = Int(Date().timeIntervalSince(started) * 1000)
        print("wrote \(out): opset \(opset), \(result.graph.nodes.count) IR nodes, \(result.bytes) bytes\(result.externalData == nil ? "" : ", \(result.bytes - result.data.count) of them in \(out).data") (\(ms) ms)")
    }
}
