import Engine
import Foundation
import TensorCore

/// Quantization error of one layer's output: the fake-quantized model's value against the float
/// model's value of the same name, summed over every element of every batch seen.
public struct LayerQuantizationError: Sendable, Equatable {
    /// Node name and the value compared (its output, after any folded activation).
    public var node: String, value: String
    /// Elements compared, `Σ ref²` and `Σ (q − ref)²`.
    public var elements = 0, signal = 0.0, noise = 0.0

    /// A layer that has seen nothing.
    public init(node: String, value: String) {
        self.node = node
        self.value = value
    }

    /// Mean squared error `Σ (q − ref)² / elements`.
    public var mse: Double { elements == 0 ? 0 : noise / Double(elements) }
    /// Signal-to-quantization-noise ratio `10·log10(Σ ref² / Σ (q − ref)²)` in dB; nil when the
    /// error is exactly zero (infinite SQNR) or nothing was seen.
    public var sqnrDB: Double? { noise > 0 && elements > 0 ? 10 * log10(signal / noise) : nil }

    /// Adds one batch of the float (`reference`) and quantized values.
    public mutating func add(reference: Tensor, quantized: Tensor) {
        let n = min(reference.count, quantized.count)
        var s = 0.0, e = 0.0
        reference.storage.withUnsafeBufferPointer { r in
            quantized.storage.withUnsafeBufferPointer { q in
                for i in 0..<n {
                    let ref = Double(r[i]), d = Double(q[i]) - ref
                    s += ref * ref
                    e += d * d
                }
            }
        }
        elements += n
        signal += s
        noise += e
    }
}

/// Measures each quantized layer's output error in one streaming pass: per batch the float
/// graph runs first and keeps only the compared values of that batch, then the annotated
/// graph runs and its observer folds the differences into running sums. Memory: one batch of
/// the compared activations, whatever the sample count.
public struct QuantizationErrorMeter {
    /// The float and annotated graphs (both prepared for inference).
    public let float: Graph, quantized: Graph
    /// Running sums, keyed by compared value name.
    public private(set) var layers: [String: LayerQuantizationError] = [:]
    private let floatExecutor: Executor, quantizedExecutor: Executor

    /// A meter comparing the outputs of `nodes` (names in `quantized`) between the graphs.
    public init(float: Graph, quantized: Graph, nodes: [String]) throws {
        self.float = float
        self.quantized = quantized
        let floatValues = Set(float.nodes.map(\.output)).union(float.inputs.map(\.name))
        for name in nodes {
            guard let node = quantized.nodes.first(where: { $0.name == name }) else {
                throw ModelPressError.internalError("quantization error: no node '\(name)' in the quantized graph")
            }
            guard floatValues.contains(node.output) else {
                throw ModelPressError.internalError("quantization error: value '\(node.output)' of '\(name)' is not in the float graph")
            }
            layers[node.output] = LayerQuantizationError(node: name, value: node.output)
        }
        floatExecutor = Executor(graph: float)
        quantizedExecutor = Executor(graph: quantized)
    }

    /// Runs one input batch (input name → N×…) through both graphs and accumulates the errors.
    public mutating func add(_ batch: [String: Tensor]) throws {
        var reference: [String: Tensor] = [:]
        let wanted = layers
        _ = try floatExecutor.run(batch) { name, value in if wanted[name] != nil { reference[name] = value } }
        var sums = layers
        _ = try quantizedExecutor.run(batch) { name, value in
            guard let ref = reference[name] else { return }
            sums[name]?.add(reference: ref, quantized: value)
            reference[name] = nil
        }
        layers = sums
    }

    /// Streams the first `samples` (all when nil) samples of `data` in batches of `batchSize`.
    public mutating func run(_ data: any BatchSource, samples: Int?, batchSize: Int) throws {
        let total = min(samples ?? data.count, data.count)
        var start = 0
        while start < total {
            let rows = start..<min(start + max(1, batchSize), total)
            try add(try data.feeds(rows, for: float.inputs, model: float.metadata["source_path"]))
            start = rows.upperBound
        }
    }

    /// The error of each compared node, by node name.
    public var byNode: [String: LayerQuantizationError] {
        Dictionary(layers.values.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
    }
}
