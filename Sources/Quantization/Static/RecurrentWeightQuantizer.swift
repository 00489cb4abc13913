import TensorCore

/// LSTM layers with int8 weights: W (input kernel) and R (recurrent kernel) symmetric int8, per
/// output column (axis 1) by default, stored as integers and computed in float — the scope of
/// onnxruntime's DynamicQuantizeLSTM, used by dynamic and static quantization alike. GRU and
/// SimpleRNN stay float, as there: on the random-weight gru_rnn fixture their int8 recurrent
/// weights cost 19 dB (39.4 → 20.2).
public enum RecurrentWeightQuantizer {
    /// One quantized LSTM layer.
    public struct Layer: Sendable, Equatable {
        /// Node name and source layer.
        public var node: String, layer: String
        /// The annotated weights (W, R) and every scale of both.
        public var weights: [String], scales: [Float]
    }

    /// Annotates the W and R initializers of every LSTM node of `graph` not excluded by
    /// `options`; returns the layers, in node order.
    public static func quantize(_ graph: inout Graph, options: StaticQuantizationOptions) throws -> [Layer] {
        var layers: [Layer] = []
        for node in graph.nodes {
            guard case .recurrent(let op) = node.op, op.cell == .lstm, !options.exclude.contains(node.name), !options.exclude.contains(node.layer) else {
                continue
            }
            var layer = Layer(node: node.name, layer: node.layer, weights: [], scales: [])
            for name in node.inputs[1...2] {
                guard let w = graph.initializers[name], graph.quantization[name] == nil else { continue }
                let q = WeightQuantizer.symmetric(w, axis: options.weights == .perChannel ? 1 : nil, type: .int8, scheme: options.scheme, levels: options.weightLevels)
                try q.validate(for: w.shape) { ModelPressError.internalError("quantization of '\(name)' \($0)") }
                graph.quantization[name] = q
                layer.weights.append(name)
                layer.scales += q.scales
            }
            if !layer.weights.isEmpty { layers.append(layer) }
        }
        return layers
    }
}
