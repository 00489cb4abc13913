import Foundation
import TensorCore

/// Weight-only block-wise quantization of a float graph: the weight each op names
/// (`OpDefinition.blockQuantizedWeight`: Dense kernels along K, Embedding tables along D) gets a
/// blocked annotation and holds the values its integers encode, so the engine computes what the
/// file computes; activations stay float.
public enum WeightOnlyQuantizer {
    /// The quantized graph and one row per quantized layer, in node order.
    public static func quantize(_ graph: Graph, options: WeightOnlyOptions) throws -> (graph: Graph, layers: [WeightOnlyLayer]) {
        let known = Set(graph.nodes.flatMap { [$0.name, $0.layer] })
        if let unknown = options.exclude.sorted().first(where: { !known.contains($0) }) {
            throw ModelPressError.invalidArgument("--exclude \(unknown): the model has no such layer (layers: \(Set(graph.nodes.map(\.layer)).sorted().joined(separator: ", "))).")
        }
        var g = graph
        var layers: [WeightOnlyLayer] = []
        for node in graph.nodes where !options.exclude.contains(node.name) && !options.exclude.contains(node.layer) {
            guard let target = node.op.definition.blockQuantizedWeight, target.input < node.inputs.count else { continue }
            let name = node.inputs[target.input]
            guard let weight = g.initializers[name], weight.rank == 2, g.quantization[name] == nil else { continue }
            let q = BlockQuantizer.annotation(weight, axis: target.axis, blockSize: options.blockSize, type: options.type, search: options.scales)
            var stored = weight
            q.fakeQuantize(&stored)
            g.initializers[name] = stored
            g.quantization[name] = q
            layers.append(
                WeightOnlyLayer(
                    node: node.name, layer: node.layer, op: node.op.name, weight: name, type: q.type.rawValue, blockSize: options.blockSize,
                    axis: target.axis, parameters: weight.count, bytes: storedBytes(q, count: weight.count), floatBytes: 4 * weight.count,
                    weightSQNRdB: sqnr(weight.storage, stored.storage)))
        }
        return (g, layers)
    }

    /// Bytes of a blocked weight of `count` elements: packed integers, float32 scales, and
    /// packed zero points when any is not 0.
    static func storedBytes(_ q: TensorQuantization, count: Int) -> Int {
        let zeroPoints = q.zeroPoints.contains { $0 != 0 } ? (q.zeroPoints.count * q.bits + 7) / 8 : 0
        return (count * q.bits + 7) / 8 + 4 * q.scales.count + zeroPoints
    }

    /// 10·log10(Σx² / Σ(x − y)²), nil when y equals x.
    static func sqnr(_ x: [Float], _ y: [Float]) -> Double? {
        var signal = 0.0, noise = 0.0
        for (a, b) in zip(x, y) {
            signal += Double(a) * Double(a)
            noise += Double(a - b) * Double(a - b)
        }
        return noise == 0 ? nil : 10 * log10(signal / noise)
    }
}
