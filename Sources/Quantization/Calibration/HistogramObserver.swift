import Foundation

/// A fixed-size histogram of |x| over `[0, range)` that streams any number of values in
/// constant memory: when a value reaches past the range, the range doubles and adjacent bin
/// pairs merge (counts stay exact, resolution halves). Backs the percentile, entropy and MSE
/// calibration methods.
public struct HistogramObserver: Equatable, Sendable {
    /// Counts per bin; bin i covers `[i·width, (i+1)·width)`.
    public private(set) var bins: [Double]
    /// Upper end of the covered range (0 before any nonzero value).
    public private(set) var range: Float = 0
    /// Largest |x| seen.
    public private(set) var maxAbs: Float = 0

    /// A histogram with `binCount` bins (even; 2048 as TensorRT uses).
    public init(binCount: Int = 2048) {
        bins = [Double](repeating: 0, count: Swift.max(2, binCount & ~1))
    }

    /// Width of one bin.
    public var binWidth: Float { range / Float(bins.count) }

    /// Folds `values` in (non-finite values must be rejected by the caller first).
    public mutating func observe(_ values: UnsafeBufferPointer<Float>) {
        var batchMax: Float = 0
        if let base = values.baseAddress {
            // 8-wide max of |x| (the caller has rejected non-finite values).
            var max8 = SIMD8<Float>(repeating: 0)
            let raw = UnsafeRawPointer(base)
            var i = 0
            while i + 8 <= values.count {
                let v = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD8<Float>.self)
                let a = v.replacing(with: -v, where: v .< 0)
                max8.replace(with: a, where: a .> max8)
                i += 8
            }
            batchMax = max8.max()
            while i < values.count { batchMax = Swift.max(batchMax, abs(base[i])); i += 1 }
        }
        maxAbs = Swift.max(maxAbs, batchMax)
        guard batchMax > 0 else {
            bins[0] += Double(values.count)
            return
        }
        if range == 0 { range = batchMax * (1 + 1e-6) }
        while batchMax >= range { coarsen() }
        let n = bins.count
        let scale = Float(n) / range
        bins.withUnsafeMutableBufferPointer { b in
            for v in values { b[Swift.min(n - 1, Int(abs(v) * scale))] += 1 }
        }
    }

    /// Doubles the range by merging bin pairs.
    private mutating func coarsen() {
        let half = bins.count / 2
        for i in 0..<half { bins[i] = bins[2 * i] + bins[2 * i + 1] }
        for i in half..<bins.count { bins[i] = 0 }
        range *= 2
    }

    /// Total count.
    public var total: Double { bins.reduce(0, +) }

    /// The smallest bound t such that at least `percentile`% of |x| are ≤ t (bin upper edge).
    public func percentileBound(_ percentile: Double) -> Float {
        let target = total * percentile / 100
        var running = 0.0
        for (i, c) in bins.enumerated() {
            running += c
            if running >= target { return Swift.min(Float(i + 1) * binWidth, maxAbs) }
        }
        return maxAbs
    }

    /// The clipping bound minimising KL(P ‖ Q) between the |x| histogram clipped at the bound
    /// (outliers folded into the last bin) and its quantization into `levels` bins (TensorRT's
    /// entropy calibration; `levels` = 128 for 8-bit signed, 256 for unsigned).
    /// `ignoringZeroBin` leaves the first bin out of both distributions: for non-negative
    /// activations (after ReLU) it is dominated by exact zeros, which every threshold
    /// represents exactly, and would otherwise push the search towards heavy clipping.
    ///
    /// With prefix sums of the counts b, of b·log b and of nonzero bins, each candidate's
    /// KL = Σ P log P − Σ P log Q takes O(levels) instead of O(bins): within a quantized
    /// group every nonzero bin has the same Q, so Σ P log Q is one term per group.
    public func entropyBound(levels: Int = 128, ignoringZeroBin: Bool = false) -> Float {
        let n = bins.count
        guard n > levels, total > 0 else { return maxAbs }
        var b = bins
        if ignoringZeroBin { b[0] = 0 }
        var mass = [Double](repeating: 0, count: n + 1), entropy = mass, nonzero = [Int](repeating: 0, count: n + 1)
        for k in 0..<n {
            mass[k + 1] = mass[k] + b[k]
            entropy[k + 1] = entropy[k] + (b[k] > 0 ? b[k] * log(b[k]) : 0)
            nonzero[k + 1] = nonzero[k] + (b[k] > 0 ? 1 : 0)
        }
        let all = mass[n]
        guard all > 0 else { return maxAbs }
        let logAll = log(all), tiny = 1e-12
        var bestKL = Double.infinity, best = n
        for i in levels...n {
            let inRange = mass[i], outliers = all - inRange, last = b[i - 1]
            guard inRange > 0 else { continue }
            // Σ P log P over bins 0..<i−1 (P = b / all), then the last bin with the outliers.
            var kl = (entropy[i - 1] - logAll * mass[i - 1]) / all
            var lastQ = tiny
            let group = Double(i) / Double(levels)
            for j in 0..<levels {
                let start = Int((Double(j) * group).rounded(.down))
                let end = j == levels - 1 ? i : Int((Double(j + 1) * group).rounded(.down))
                let count = nonzero[end] - nonzero[start]
                guard count > 0 else { continue }
                let groupMass = mass[end] - mass[start]
                let q = groupMass / Double(count) / inRange
                // − Σ P log Q over the group's nonzero bins, the last bin excluded (added below).
                let regular = end == i && last > 0 ? groupMass - last : groupMass
                kl -= regular / all * log(max(q, tiny))
                if end == i && last > 0 { lastQ = q }
            }
            let pLast = (last + outliers) / all
            if pLast > 0 { kl += pLast * (log(pLast) - log(max(lastQ, tiny))) }
            if kl < bestKL { bestKL = kl; best = i }
        }
        return Swift.min(Float(best) * binWidth, maxAbs)
    }

    /// `entropyBound` computed by its definition (P and Q materialised for every candidate,
    /// O(bins) per candidate): the reference the fast version is tested against.
    /// The clipping bound minimising KL(P ‖ Q) between the |x| histogram clipped at the bound
    /// (outliers folded into the last bin) and its quantization into `levels` bins (TensorRT's
    /// entropy calibration; `levels` = 128 for 8-bit signed, 256 for unsigned).
    /// `ignoringZeroBin` leaves the first bin out of both distributions: for non-negative
    /// activations (after ReLU) it is dominated by exact zeros, which every threshold
    /// represents exactly, and would otherwise push the search towards heavy clipping.
    public func entropyBoundByDefinition(levels: Int = 128, ignoringZeroBin: Bool = false) -> Float {
        let n = bins.count
        guard n > levels, total > 0 else { return maxAbs }
        var bins = self.bins
        if ignoringZeroBin { bins[0] = 0 }
        guard bins.reduce(0, +) > 0 else { return maxAbs }
        var bestKL = Double.infinity, best = n
        var p = [Double](repeating: 0, count: n), q = [Double](repeating: 0, count: n)
        for i in stride(from: levels, through: n, by: 1) {
            // P: first i bins, outlier mass added to the last one.
            for k in 0..<i { p[k] = bins[k] }
            p[i - 1] += bins[i...].reduce(0, +)
            // Q: the i bins merged into `levels` groups, each group's mass spread evenly over
            // its nonzero bins.
            let group = Double(i) / Double(levels)
            for j in 0..<levels {
                let start = Int((Double(j) * group).rounded(.down)), end = j == levels - 1 ? i : Int((Double(j + 1) * group).rounded(.down))
                var mass = 0.0, nonzero = 0
                for k in start..<end { mass += bins[k]; if bins[k] > 0 { nonzero += 1 } }
                for k in start..<end { q[k] = bins[k] > 0 && nonzero > 0 ? mass / Double(nonzero) : 0 }
            }
            let kl = klDivergence(p, q, count: i)
            if kl < bestKL { bestKL = kl; best = i }
        }
        return Swift.min(Float(best) * binWidth, maxAbs)
    }

    /// The clipping bound minimising the expected squared error of symmetric quantization with
    /// `levels` steps per side: clipped mass contributes (|x| − t)², in-range mass Δ²/12.
    public func mseBound(levels: Int = 127) -> Float {
        guard total > 0, range > 0 else { return maxAbs }
        let w = Double(binWidth)
        var bestError = Double.infinity, best = bins.count
        for i in 1...bins.count {
            let t = Double(i) * w, step = t / Double(levels)
            var error = 0.0
            for (k, c) in bins.enumerated() where c > 0 {
                let center = (Double(k) + 0.5) * w
                error += center > t ? c * (center - t) * (center - t) : c * step * step / 12
            }
            if error < bestError { bestError = error; best = i }
        }
        return Swift.min(Float(best) * binWidth, maxAbs)
    }
}

/// KL(P ‖ Q) over the first `count` entries, both normalised; terms with P = 0 contribute 0,
/// P > 0 with Q = 0 is smoothed with a tiny Q (as TensorRT/onnxruntime do).
func klDivergence(_ p: [Double], _ q: [Double], count: Int) -> Double {
    let ps = p[0..<count].reduce(0, +), qs = q[0..<count].reduce(0, +)
    guard ps > 0, qs > 0 else { return .infinity }
    var kl = 0.0
    for k in 0..<count where p[k] > 0 {
        let pk = p[k] / ps, qk = Swift.max(q[k] / qs, 1e-12)
        kl += pk * log(pk / qk)
    }
    return kl
}
