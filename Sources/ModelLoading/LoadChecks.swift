import Foundation
import TensorCore

/// What loading does with NaN or Inf weights: warn (the default) or refuse (`--strict`).
public enum NonFiniteWeightPolicy: String, Sendable, CaseIterable {
    case warn, refuse
}

/// Checks every loaded model gets before any command uses it: no value larger than a stated
/// limit (a file can declare any shape; the engine would allocate it), and a count of NaN /
/// Inf weights per layer.
public enum LoadChecks {
    /// Largest element count of one sample of any value, or of one initializer: 2^28
    /// (1 GiB of float32), or `MODELPRESS_MAX_TENSOR_ELEMENTS`.
    public static var maxElements: Int {
        if let text = ProcessInfo.processInfo.environment["MODELPRESS_MAX_TENSOR_ELEMENTS"], let n = Int(text), n > 0 { return n }
        return 1 << 28
    }

    /// Throws `invalidModel` naming the first value (and its layer) whose per-sample element
    /// count overflows or exceeds `maxElements`.
    public static func checkSizes(_ graph: Graph, file: String) throws {
        let limit = maxElements
        var layerOfValue: [String: String] = [:]
        for node in graph.nodes { for output in node.outputs { layerOfValue[output] = node.layer } }
        for name in graph.shapes.keys.sorted() {
            let shape = graph.shapes[name]!
            let sample = graph.initializers[name] != nil ? shape : shape.map { $0 == dynamicBatch ? 1 : $0 }
            let count = Checked.product(sample)
            guard let count, count <= limit else {
                let location = layerOfValue[name].map { "layer '\($0)', value '\(name)'" } ?? "value '\(name)'"
                throw ModelPressError.invalidModel(
                    file: file, location: location,
                    message: "has shape \(shape), \(count.map { "\($0) elements" } ?? "an element count that overflows") per sample; the limit is \(limit)",
                    hint: "the file is damaged or declares absurd sizes; for a genuine model this large, raise MODELPRESS_MAX_TENSOR_ELEMENTS")
            }
        }
    }

    /// Layers whose weights hold NaN or Inf, with the count, in graph order.
    public static func nonFiniteWeights(_ graph: Graph) -> [(layer: String, count: Int, total: Int)] {
        var seen: Set<String> = []
        var found: [(layer: String, count: Int, total: Int)] = []
        for node in graph.nodes {
            var count = 0
            var total = 0
            for input in node.inputs where !seen.contains(input) {
                guard let tensor = graph.initializers[input] else { continue }
                seen.insert(input)
                total += tensor.count
                count += tensor.storage.withUnsafeBufferPointer { $0.reduce(0) { $1.isFinite ? $0 : $0 + 1 } }
            }
            if count > 0 { found.append((node.layer, count, total)) }
        }
        return found
    }

    /// Applies `policy` to the non-finite weights of `graph`: returns one warning line per
    /// layer, or throws `invalidModel` naming the first layer under `.refuse`.
    public static func checkFinite(_ graph: Graph, file: String, policy: NonFiniteWeightPolicy) throws -> [String] {
        let found = nonFiniteWeights(graph)
        if policy == .refuse, let first = found.first {
            throw ModelPressError.invalidModel(
                file: file, location: "layer '\(first.layer)'", message: "\(first.count) of \(first.total) weights are NaN or Inf",
                hint: "the checkpoint is damaged or training diverged; re-save it from a good epoch (drop --strict to load it with a warning)")
        }
        return found.map { "warning: \(file): layer '\($0.layer)': \($0.count) of \($0.total) weights are NaN or Inf (--strict refuses such models)" }
    }
}
