import TensorCore

/// What dynamic quantization did to one compute layer.
public struct DynamicLayerReport: Sendable, Equatable {
    /// Node name and source layer.
    public var node: String, layer: String
    /// Weight channels (1 per tensor) and the smallest / largest weight scale.
    public var channels: Int, minWeightScale: Float, maxWeightScale: Float
    /// Whether the layer's activations are quantized at run time (Dense → MatMulInteger,
    /// Conv → ConvInteger); false for a Dense on a non-2-D weight (it runs in float).
    public var runtimeActivations: Bool
}

/// Dynamic quantization (`--dynamic`, like onnxruntime's `quantize_dynamic`): no calibration.
/// Every planned Conv / Dense weight, and every LSTM's W and R (`RecurrentWeightQuantizer`),
/// becomes symmetric int8 (per output channel by default);
/// biases and activations stay float in the IR. The exporter's `.dynamic` form then quantizes
/// Dense and Conv inputs at run time (DynamicQuantizeLinear → MatMulInteger / ConvInteger).
public enum DynamicQuantizer {
    /// The weight-annotated graph and a report per quantized layer.
    public static func quantize(_ graph: Graph, plan: QuantizationPlan, options: StaticQuantizationOptions) throws -> (Graph, [DynamicLayerReport]) {
        var g = graph
        var reports: [DynamicLayerReport] = []
        for c in plan.compute {
            let node = graph.nodes[c.index]
            guard let w = graph.initializers[c.weight] else { continue }
            let q = WeightQuantizer.symmetric(
                w, axis: options.weights == .perChannel ? c.channelAxis : nil, type: .int8, scheme: options.scheme, levels: options.weightLevels)
            try q.validate(for: w.shape) { ModelPressError.internalError("quantization of '\(c.weight)' \($0)") }
            g.quantization[c.weight] = q
            var dense = false
            if case .linear = node.op, w.rank == 2 { dense = true }
            if case .conv2D = node.op, w.rank == 4 { dense = true }
            reports.append(
                DynamicLayerReport(
                    node: node.name, layer: node.layer, channels: q.scales.count,
                    minWeightScale: q.scales.min() ?? 0, maxWeightScale: q.scales.max() ?? 0,
                    runtimeActivations: dense))
        }
        // LSTM layers: W and R int8 (computed in float).
        for layer in options.recurrentWeights ? try RecurrentWeightQuantizer.quantize(&g, options: options) : [] {
            reports.append(
                DynamicLayerReport(
                    node: layer.node, layer: layer.layer, channels: layer.scales.count / 2, minWeightScale: layer.scales.min() ?? 0,
                    maxWeightScale: layer.scales.max() ?? 0, runtimeActivations: false))
        }
        return (g, reports)
    }
}
