import ArgumentParser
import Evaluation
import TensorCore

/// `modelpress inspect`: per-node table of op, output shape, parameters, sparsity, bits, bytes and
/// MACs, and the activation memory per sample.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a model's layers: op, output shape, parameters, bytes, MACs.")

    @OptionGroup var model: ModelOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Report: Encodable {
        struct Layer: Encodable {
            var name: String, layer: String, op: String, outputShape: [Int], parameters: Int, sparsity: Double, bits: Int, bytes: Int, macs: Int
        }
        struct Value: Encodable { var name: String, shape: [Int] }
        var model: String, name: String, format: String, sha256: String
        var inputs: [Value], outputs: [Value], layers: [Layer]
        var totals: [String: Int]
    }

    func run() throws {
        let graph = try model.load()
        let stats = graph.statistics()
        let memory = graph.activationMemory()
        let totals = [
            "parameters": graph.initializers.values.reduce(0) { $0 + $1.count },
            "bytes": stats.reduce(0) { $0 + $1.bytes },
            "macs": stats.reduce(0) { $0 + $1.macs },
            "nodes": graph.nodes.count,
            "peak_activation_bytes": memory.peakBytes,
            "activation_bytes_without_reuse": memory.totalBytes,
        ]
        if json {
            try printJSON(
                Report(
                    model: model.model, name: graph.name, format: graph.metadata["source_format"] ?? "",
                    sha256: graph.metadata["source_sha256"] ?? "",
                    inputs: graph.inputs.map { .init(name: $0.name, shape: $0.shape) },
                    outputs: graph.outputs.map { .init(name: $0.name, shape: $0.shape) },
                    layers: stats.map {
                        .init(
                            name: $0.node, layer: $0.layer, op: $0.op, outputShape: $0.outputShape,
                            parameters: $0.parameters, sparsity: $0.sparsity, bits: $0.bits, bytes: $0.bytes, macs: $0.macs)
                    },
                    totals: totals))
            return
        }
        func shape(_ s: [Int]) -> String { "[" + s.map { $0 == dynamicBatch ? "N" : String($0) }.joined(separator: ", ") + "]" }
        let keras = graph.metadata["keras_version"].map { ", Keras \($0)" } ?? ""
        print("\(model.model): \(graph.name) (\(graph.metadata["source_format"] ?? "?")\(keras))")
        print("inputs:  " + graph.inputs.map { "\($0.name) \(shape($0.shape))" }.joined(separator: ", "))
        print("outputs: " + graph.outputs.map { "\($0.name) \(shape($0.shape))" }.joined(separator: ", "))
        print("")
        let rows = stats.map { s -> [String] in
            let weighted = s.parameters > 0
            return [
                s.node, s.op, shape(s.outputShape), grouped(s.parameters),
                weighted ? String(format: "%.1f%%", s.sparsity * 100) : "", weighted ? String(s.bits) : "",
                grouped(s.bytes), grouped(s.macs),
            ]
        }
        print(
            renderTable(
                header: ["name", "op", "output shape", "params", "sparsity", "bits", "bytes", "MACs"], rows: rows,
                numeric: [3, 4, 5, 6, 7]))
        print("")
        print("total: \(grouped(totals["parameters"] ?? 0)) parameters, \(grouped(totals["bytes"] ?? 0)) bytes, \(grouped(totals["macs"] ?? 0)) MACs per sample, \(graph.nodes.count) nodes")
        print(
            "activations: \(grouped(memory.peakBytes)) bytes per sample alive at the peak (at '\(memory.peakNode)'), "
                + "\(grouped(memory.totalBytes)) without reuse")
    }
}
