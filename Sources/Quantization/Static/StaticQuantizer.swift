import Foundation
import TensorCore

/// What static quantization did to one compute layer.
public struct QuantizedLayerReport: Sendable, Equatable {
    /// Node name and source layer.
    public var node: String, layer: String
    /// Weight channels (1 per tensor), the smallest / largest weight scale and the weight bits.
    public var channels: Int, minWeightScale: Float, maxWeightScale: Float, weightBits: Int
    /// Input and output activation parameters.
    public var input: TensorQuantization, output: TensorQuantization
    /// The ReLU / ReLU6 folded into the output range, if any.
    public var foldedActivation: String?
    /// With bias correction: the largest |shift| subtracted from the bias (nil: not corrected).
    public var biasShift: Float?
}

/// Static post-training quantization of the graph IR: turns calibration statistics into
/// `Graph.quantization` annotations (see docs/quantization.md).
public enum StaticQuantizer {
    /// The annotated graph for `graph` (the one `plan` and `statistics` were made on) and a
    /// report per quantized compute node.
    public static func quantize(
        _ graph: Graph, plan: QuantizationPlan, statistics: [String: ActivationStatistics],
        options: StaticQuantizationOptions
    ) throws -> (Graph, [QuantizedLayerReport]) {
        var g = graph
        var annotations: [String: TensorQuantization] = [:]
        let fold = options.asymmetricActivations
        let clampOf = Dictionary(
            plan.foldable.map { (g.nodes[$0.key].output, PlanClamp(max: QuantizationPlan.clampMax(g.nodes[$0.key].op))) },
            uniquingKeysWith: { a, _ in a })
        // Values a 16-bit layer reads or writes (a folded ReLU's output too) are 16-bit for every reader.
        var widened = Set<String>()
        for c in plan.compute where options.sixteenBitLayers.contains(g.nodes[c.index].name) || options.sixteenBitLayers.contains(g.nodes[c.index].layer) {
            widened.insert(g.nodes[c.index].inputs[0])
            widened.formUnion(g.nodes[c.index].outputs)
        }
        for (relu, pre) in plan.foldable where widened.contains(pre) { widened.insert(g.nodes[relu].output) }
        let wide = widened
        let names = plan.calibrated.sorted()
        var ranges = [(lo: Float, hi: Float)](repeating: (0, 0), count: names.count)
        for name in names where (statistics[name]?.minMax.count ?? 0) == 0 {
            throw ModelPressError.internalError("no calibration statistics for value '\(name)'")
        }
        // The histogram searches (entropy: O(bins · levels) logs per value) are independent:
        // one value per iteration, on all cores; each slot is written by one iteration.
        ranges.withUnsafeMutableBufferPointer { out in
            let slots = RangeSlots(base: out.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: names.count) { i in
                if let s = statistics[names[i]] {
                    slots.base[i] = s.range(options.method, percentile: options.percentile, unsigned: options.asymmetricActivations, bits: wide.contains(names[i]) ? 16 : options.bits)
                }
            }
        }
        for (name, range) in zip(names, ranges) {
            var (lo, hi) = range
            if fold, let clamp = clampOf[name] { (lo, hi) = (0, min(hi, clamp.max)) }
            annotations[name] = activation(lo: lo, hi: hi, type: options.activationType(wide: wide.contains(name)), scheme: options.scheme)
        }
        // Fold ReLU / ReLU6: with uint8 and zero point 0 the quantizer's clamp at 0 (and at
        // the range's top, ≤ the clip bound) is the activation, exactly.
        var foldedBy: [String: String] = [:]
        if fold {
            var removed = Set<Int>()
            for (reluIndex, pre) in plan.foldable {
                guard let producer = g.nodes.firstIndex(where: { $0.output == pre }) else { continue }
                let relu = g.nodes[reluIndex]
                g.nodes[producer].output = relu.output
                g.shapes[pre] = nil
                removed.insert(reluIndex)
                foldedBy[g.nodes[producer].name] = relu.op.name
            }
            g.nodes = g.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        }
        // Max pooling, flatten, reshape, transpose: the output shares the input's parameters.
        // Unfolded ReLU / ReLU6 (signed activations): the output stays on the input's grid.
        for node in g.nodes where node.op.definition.quantizationRole == .transparent || (!fold && QuantizationPlan.isRelu(node.op)) {
            if let q = annotations[node.inputs[0]] { for output in node.outputs { annotations[output] = q } }
        }
        var reports: [QuantizedLayerReport] = []
        let computeByName = Dictionary(plan.compute.map { (graph.nodes[$0.index].name, $0) }, uniquingKeysWith: { a, _ in a })
        for node in g.nodes {
            guard let c = computeByName[node.name], let w = g.initializers[c.weight], let input = annotations[node.inputs[0]], let output = annotations[node.output] else { continue }
            let wq = weightQuantization(w, of: node, axis: c.channelAxis, options: options)
            annotations[c.weight] = wq
            var biasName = c.bias
            if let shift = options.biasShifts[node.name] {
                biasName = try BiasCorrection.apply(shift, to: node.name, bias: c.bias, in: &g)
            }
            if let b = biasName, let bias = g.initializers[b] {
                // On the accumulator's grid s_x·s_w, coarser by a power of two where that would
                // saturate int32 (only possible with 16-bit operands).
                annotations[b] = WeightQuantizer.int32Bias(inputScale: input.scales[0], weights: wq, fitting: bias)
            }
            reports.append(
                QuantizedLayerReport(
                    node: node.name, layer: node.layer, channels: wq.scales.count,
                    minWeightScale: wq.scales.min() ?? 0, maxWeightScale: wq.scales.max() ?? 0, weightBits: wq.bits,
                    input: input, output: output, foldedActivation: foldedBy[node.name],
                    biasShift: options.biasShifts[node.name].map { $0.reduce(0) { max($0, abs($1)) } }))
        }
        // With `int8Tables`: tables float ops read (Embedding) get int8 weights, one scale per row
        // (per channel along the axis their blocks do not run along), read through a DequantizeLinear.
        for node in g.nodes where options.int8Tables && node.op.definition.quantizationRole == .float {
            guard !options.exclude.contains(node.name), !options.exclude.contains(node.layer),
                let target = node.op.definition.blockQuantizedWeight, target.input < node.inputs.count,
                let table = g.initializers[node.inputs[target.input]], table.rank == 2, annotations[node.inputs[target.input]] == nil
            else { continue }
            annotations[node.inputs[target.input]] = WeightQuantizer.symmetric(
                table, axis: 1 - target.axis, type: options.weightType, scheme: options.scheme, levels: options.weightLevels)
        }
        for (name, q) in annotations {
            guard let shape = g.shapes[name] else { continue }
            try q.validate(for: shape) { ModelPressError.internalError("quantization of '\(name)' \($0)") }
            g.quantization[name] = q
        }
        // LSTM weights int8, computed in float between their DequantizeLinear and the LSTM.
        if options.recurrentWeights { _ = try RecurrentWeightQuantizer.quantize(&g, options: options) }
        return (g, reports)
    }

    /// The symmetric parameters of compute node `node`'s weight `w` (output channels along
    /// `axis`) under `options`: int16 for the 16-bit layers of a precision plan, else the
    /// options' weight type, per channel or per tensor.
    public static func weightQuantization(_ w: Tensor, of node: Node, axis: Int, options: StaticQuantizationOptions) -> TensorQuantization {
        let sixteen = options.sixteenBitLayers.contains(node.name) || options.sixteenBitLayers.contains(node.layer)
        return WeightQuantizer.symmetric(
            w, axis: options.weights == .perChannel ? axis : nil,
            type: sixteen ? .int16 : options.weightType, scheme: options.scheme, levels: sixteen ? Int(Int16.max) : options.weightLevels)
    }

    /// Activation parameters for `[lo, hi]`: asymmetric uint8 / uint16 (range widened to hold
    /// 0, so zero is exact) or symmetric int8 / int16 (`scale = max(|lo|, |hi|) / qmax`); with
    /// `.pow2` the scale is rounded up to a power of two (and the zero point chosen for it).
    public static func activation(lo: Float, hi: Float, type: QuantizedElementType, scheme: QuantizationScheme = .affine) -> TensorQuantization {
        if type.isSigned {
            let q = TensorQuantization.symmetric(bound: max(abs(lo), abs(hi)), type: type)
            return scheme == .pow2 ? q.powerOfTwo() : q
        }
        return scheme == .pow2 ? .asymmetricPowerOfTwo(min: lo, max: hi, type: type) : .asymmetric(min: lo, max: hi, type: type)
    }
}

/// The upper clamp of a foldable activation.
private struct PlanClamp { var max: Float }

/// Range slots each written by exactly one concurrent iteration (disjoint indices, joined
/// before they are read), which is why sharing the pointer across threads is safe.
private struct RangeSlots: @unchecked Sendable {
    let base: UnsafeMutablePointer<(lo: Float, hi: Float)>
}
