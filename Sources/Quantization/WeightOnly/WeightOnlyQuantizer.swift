import Foundation
import TensorCore

/// Weight-only block-wise quantization of a float graph: the weight each op names
/// (`OpDefinition.blockQuantizedWeight`: Dense kernels along K, Embedding tables along D) gets a
/// blocked annotation and holds the values its integers encode, so the engine computes what the
/// file computes; activations stay float.
public enum WeightOnlyQuantizer {
    /// The quantized graph and one row per quantized layer, in node order. `inputs`: what
    /// calibration showed of Dense layers' inputs, for activation-aware scaling (nil: none).
    public static func quantize(
        _ graph: Graph, options: WeightOnlyOptions, inputs: [String: ActivationAwareScaling.InputSample]? = nil
    ) throws -> (graph: Graph, layers: [WeightOnlyLayer]) {
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
            var q = BlockQuantizer.annotation(weight, axis: target.axis, blockSize: options.blockSize, type: options.type, search: options.scales, halfScales: options.scaleType == .float16)
            var stored = weight
            q.fakeQuantize(&stored)
            var exponent: Float?
            if case .linear = node.op, let sample = inputs?[node.name], graph.nodes.filter({ $0.inputs.contains(name) }).count == 1 {
                let found = try ActivationAwareScaling.search(weight, sample: sample, options: options)
                if found.scales.contains(where: { $0 != 1 }) {
                    (q, stored, exponent) = (found.annotation, found.kernel, found.exponent)
                    try scaleInput(of: node.name, by: found.scales.map { 1 / $0 }, in: &g)
                }
            }
            g.initializers[name] = stored
            g.quantization[name] = q
            layers.append(
                WeightOnlyLayer(
                    node: node.name, layer: node.layer, op: node.op.name, weight: name, type: q.type.rawValue, blockSize: options.blockSize,
                    axis: target.axis, scaleType: q.halfScales ? "float16" : "float32", parameters: weight.count, bytes: storedBytes(q, count: weight.count), floatBytes: 4 * weight.count,
                    weightSQNRdB: sqnr(weight.storage, stored.storage), activationExponent: exponent))
        }
        return (g, layers)
    }

    /// Inserts `input · scale` (a Mul by a K-vector) before node `name`, which then reads it.
    static func scaleInput(of name: String, by scale: [Float], in g: inout Graph) throws {
        guard let i = g.nodes.firstIndex(where: { $0.name == name }), let shape = g.shapes[g.nodes[i].inputs[0]] else { return }
        let constant = g.uniqueName(name + "/input_scale")
        let scaled = g.uniqueName(name + "/scaled_input")
        try g.addInitializer(constant, try Tensor(shape: [scale.count], storage: scale))
        g.shapes[scaled] = shape
        let mul = Node(name: scaled, op: .elementwise(.multiply), inputs: [g.nodes[i].inputs[0], constant], output: scaled, layer: g.nodes[i].layer)
        g.nodes[i].inputs[0] = scaled
        g.nodes.insert(mul, at: i)
    }

    /// Bytes of a blocked weight of `count` elements: packed integers, float16 or float32 scales,
    /// and packed zero points when any is not 0.
    static func storedBytes(_ q: TensorQuantization, count: Int) -> Int {
        let zeroPoints = q.zeroPoints.contains { $0 != 0 } ? (q.zeroPoints.count * q.bits + 7) / 8 : 0
        return (count * q.bits + 7) / 8 + (q.halfScales ? 2 : 4) * q.scales.count + zeroPoints
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
