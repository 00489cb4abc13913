import TensorCore

/// Scales and zero points for a weight blocked along one axis (ONNX's blocked
/// DequantizeLinear layout): per block, the range is mapped onto `type`'s integers, by round to
/// nearest or by the clipping of the range with the least squared error. Float16 scales are
/// chosen among float16 values, so the search weighs the scales the file stores.
public enum BlockQuantizer {
    /// Range clippings tried by `.mse`: 100 % down to 55 % in steps of 3 %.
    public static let clippings: [Float] = (0..<16).map { 1 - Float($0) * 0.03 }

    /// The annotation for `weight` blocked by `blockSize` along `axis`, with float16 scales when
    /// `halfScales` and every block's scale fits float16 (else float32 scales).
    public static func annotation(
        _ weight: Tensor, axis: Int, blockSize: Int, type: QuantizedElementType, search: WeightOnlyOptions.ScaleSearch, halfScales: Bool = false
    ) -> TensorQuantization {
        var q = TensorQuantization(scales: [1], zeroPoints: [0], axis: axis, type: type, blockSize: blockSize, halfScales: halfScales)
        let count = Checked.product(q.parameterShape(for: weight.shape)) ?? 1
        q.scales = [Float](repeating: 1, count: count)
        q.zeroPoints = [Int32](repeating: 0, count: count)
        let index = ParameterIndexing(q, shape: weight.shape)
        var members = [[Int]](repeating: [], count: count)
        for i in 0..<weight.count { members[index(i)].append(i) }
        let fits = weight.storage.withUnsafeBufferPointer { w in
            var block: [Float] = []
            for (p, elements) in members.enumerated() {
                block.removeAll(keepingCapacity: true)
                for i in elements { block.append(w[i]) }
                guard let found = parameters(block, type: type, search: search, halfScales: halfScales) else { return false }
                (q.scales[p], q.zeroPoints[p]) = found
            }
            return true
        }
        return fits ? q : annotation(weight, axis: axis, blockSize: blockSize, type: type, search: search)
    }

    /// Scale and zero point of one block of values; nil when `halfScales` and no scale fits float16.
    public static func parameters(_ block: [Float], type: QuantizedElementType, search: WeightOnlyOptions.ScaleSearch, halfScales: Bool = false) -> (Float, Int32)? {
        let lo = block.min() ?? 0, hi = block.max() ?? 0
        guard hi > lo || hi != 0 else { return (1, 0) }
        let candidates = search == .mse ? clippings : [1]
        var best: (error: Float, scale: Float, zero: Int32)?
        for alpha in candidates {
            var (scale, zero) = fit(lo: lo * alpha, hi: hi * alpha, type: type)
            if halfScales { scale = max(HalfPrecision.round(scale), HalfPrecision.smallestPositive) }
            guard scale.isFinite, scale > 0 else { continue }
            var error: Float = 0
            for x in block {
                let q = min(Float(type.max), max(Float(type.min), (x / scale).rounded(.toNearestOrEven) + Float(zero)))
                let d = (q - Float(zero)) * scale - x
                error += d * d
            }
            if error < best?.error ?? .infinity { best = (error, scale, zero) }
        }
        return best.map { ($0.scale, $0.zero) }
    }

    /// The scale and zero point mapping [lo, hi] onto `type`: symmetric types map ±max|·| onto
    /// ±max (zero point 0); unsigned types map lo…hi onto 0…max.
    static func fit(lo: Float, hi: Float, type: QuantizedElementType) -> (Float, Int32) {
        if type.isSigned {
            let magnitude = max(abs(lo), abs(hi))
            return (magnitude > 0 ? magnitude / Float(type.max) : 1, 0)
        }
        let span = hi - lo
        guard span > 0 else { return (max(abs(lo), 1e-12) / Float(type.max), lo < 0 ? Int32(type.max) : 0) }
        let scale = span / Float(type.max)
        let zero = Int32(max(Float(type.min), min(Float(type.max), (-lo / scale).rounded(.toNearestOrEven))))
        return (scale, zero)
    }
}
