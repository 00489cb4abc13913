import Engine
import Foundation
import TensorCore

/// Activation-aware scaling of Dense layers before block quantization (`--activation-aware`,
/// after AWQ): input channel k of a layer is scaled by s_k = (mean |x_k|)^α, its kernel row by
/// s_k and its input by 1 / s_k, so the channels with large activations keep more precision in
/// the blocks. α ∈ {0, 0.1, …, 1} is chosen per layer by the output error on calibration rows.
public enum ActivationAwareScaling {
    /// What calibration showed of one layer's input.
    public struct InputSample: Sendable {
        /// Mean |x| per input channel.
        public var meanAbs: [Float]
        /// Up to `rows` input rows (row-major, K per row), for the error.
        public var rows: Tensor
    }

    /// Exponents tried.
    public static let exponents: [Float] = (0...10).map { Float($0) / 10 }

    /// Rows of each layer's input kept for the error.
    public static let sampleRows = 256

    /// The inputs of the Dense nodes named in `nodes`, over the first `samples` of `data`.
    public static func collect(_ graph: Graph, nodes: [String], data: any BatchSource, samples: Int?, batchSize: Int) throws -> [String: InputSample] {
        var readers: [String: [String]] = [:]
        for node in graph.nodes where nodes.contains(node.name) { readers[node.inputs[0], default: []].append(node.name) }
        var sums: [String: [Double]] = [:], counts: [String: Int] = [:], kept: [String: [Float]] = [:]
        let executor = Executor(graph: graph)
        let total = min(samples ?? data.count, data.count)
        var start = 0
        while start < total {
            let rows = start..<min(start + batchSize, total)
            _ = try executor.run(try data.feeds(rows, for: graph.inputs, model: nil)) { name, value in
                guard readers[name] != nil, let k = value.shape.last, k > 0 else { return }
                var sum = sums[name] ?? [Double](repeating: 0, count: k)
                value.storage.withUnsafeBufferPointer { p in
                    for i in 0..<p.count { sum[i % k] += Double(abs(p[i])) }
                }
                sums[name] = sum
                counts[name, default: 0] += value.count / k
                let room = sampleRows * k - (kept[name]?.count ?? 0)
                if room > 0 { kept[name, default: []] += value.storage.prefix(room) }
            }
            start = rows.upperBound
        }
        var out: [String: InputSample] = [:]
        for (value, names) in readers {
            guard let sum = sums[value], let rows = kept[value], let n = counts[value], n > 0 else { continue }
            let sample = InputSample(meanAbs: sum.map { Float($0 / Double(n)) }, rows: try Tensor(shape: [rows.count / sum.count, sum.count], storage: rows))
            for name in names { out[name] = sample }
        }
        return out
    }

    /// The per-channel scales (all 1 when α = 0 wins) and the quantized, scaled kernel for a
    /// K×M `weight` with input `sample`: the exponent whose output error on the sample rows is least.
    public static func search(
        _ weight: Tensor, sample: InputSample, options: WeightOnlyOptions
    ) throws -> (scales: [Float], kernel: Tensor, annotation: TensorQuantization, exponent: Float) {
        let k = weight.shape[0], m = weight.shape[1]
        let reference = try Executor.evaluate(.linear(Linear()), [sample.rows, weight])
        var best: (error: Double, scales: [Float], kernel: Tensor, q: TensorQuantization, alpha: Float)?
        for alpha in exponents {
            var s = sample.meanAbs.map { max($0, 1e-8) }.map { alpha == 0 ? 1 : Float(pow(Double($0), Double(alpha))) }
            let norm = (s.max()! * s.min()!).squareRoot()
            s = s.map { $0 / norm }
            var scaled = weight
            scaled.storage.withUnsafeMutableBufferPointer { w in
                for row in 0..<k { for column in 0..<m { w[row * m + column] *= s[row] } }
            }
            let q = BlockQuantizer.annotation(scaled, axis: 0, blockSize: options.blockSize, type: options.type, search: options.scales, halfScales: options.scaleType == .float16)
            q.fakeQuantize(&scaled)
            var x = sample.rows
            x.storage.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count { p[i] /= s[i % k] }
            }
            let y = try Executor.evaluate(.linear(Linear()), [x, scaled])
            var error = 0.0
            for (a, b) in zip(reference.storage, y.storage) { error += Double(a - b) * Double(a - b) }
            if best.map({ error < $0.error }) ?? true { best = (error, s, scaled, q, alpha) }
        }
        guard let best else { throw ModelPressError.internalError("no activation-aware scaling was tried") }
        return (best.scales, best.kernel, best.q, best.alpha)
    }
}
