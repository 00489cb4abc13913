import Foundation
import Quantization
import TensorCore
import Testing
import _TestSupport

/// Calibration observers: bounded memory, and each method's range against an independent
/// computation on the raw samples.
@Suite("calibration observers")
struct CalibrationTests {
    /// Laplace-distributed values (scale 1) with a few large outliers.
    static func heavyTailed(_ n: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        var values = (0..<n).map { _ -> Float in
            let u = Float.random(in: -0.5..<0.5, using: &g)
            return (u < 0 ? 1 : -1) * log(1 - 2 * abs(u))
        }
        for i in stride(from: 0, to: n, by: n / 5) { values[i] = 40 }
        return values
    }

    @Test("min/max streams the exact extremes and rejects non-finite batches")
    func minMax() {
        var o = MinMaxObserver()
        [3, -2, 7].withUnsafeBufferPointer { o.observe($0) }
        [1, -5].withUnsafeBufferPointer { o.observe($0) }
        #expect(o.min == -5 && o.max == 7 && o.count == 5)
        let accepted = [Float.nan].withUnsafeBufferPointer { o.observe($0) }
        #expect(!accepted && o.count == 5)
    }

    @Test("min/max SIMD path: extremes anywhere in long batches, ±∞ / NaN in the vector part or the tail")
    func minMaxLong() {
        for n in [8, 9, 17, 64, 1001] {
            for position in [0, n / 2, n - 1] {
                var values = (0..<n).map { Float($0 % 13) - 6 }
                values[position] = -100
                values[(position + 3) % n] = 250
                var o = MinMaxObserver()
                _ = values.withUnsafeBufferPointer { o.observe($0) }
                #expect(o.min == -100 && o.max == 250 && o.count == n, "n=\(n) at \(position)")
                var h = HistogramObserver()
                values.withUnsafeBufferPointer { h.observe($0) }
                #expect(h.maxAbs == 250, "n=\(n) at \(position)")
                for bad in [Float.infinity, -Float.infinity, Float.nan] {
                    var v = values
                    v[position] = bad
                    var p = MinMaxObserver()
                    let accepted = v.withUnsafeBufferPointer { p.observe($0) }
                    #expect(!accepted && p.count == 0, "n=\(n) at \(position): \(bad)")
                }
            }
        }
    }

    @Test("histogram: constant size, exact counts and maximum however much is streamed")
    func boundedMemory() {
        var h = HistogramObserver(binCount: 2048)
        var count = 0
        for seed in 0..<20 {
            let batch = Self.heavyTailed(10_000, seed: UInt64(seed)).map { $0 * Float(seed + 1) }
            batch.withUnsafeBufferPointer { h.observe($0) }
            count += batch.count
        }
        #expect(h.bins.count == 2048)
        #expect(h.total == Double(count))
        #expect(h.maxAbs == 40 * 20)
        #expect(h.range > h.maxAbs)
    }

    @Test("percentile bound matches the sorted samples within one bin")
    func percentile() {
        let values = Self.heavyTailed(100_000, seed: 3)
        var h = HistogramObserver()
        values.withUnsafeBufferPointer { h.observe($0) }
        let sorted = values.map(abs).sorted()
        let exact = sorted[Int(0.999 * Double(sorted.count)) - 1]
        #expect(abs(h.percentileBound(99.9) - exact) <= h.binWidth)
    }

    @Test("MSE bound: expected error within 2% of the best bound found by quantizing the samples")
    func mse() {
        let values = Self.heavyTailed(50_000, seed: 5)
        var h = HistogramObserver()
        values.withUnsafeBufferPointer { h.observe($0) }
        func error(_ t: Float) -> Double {
            let q = TensorQuantization.symmetric(bound: t, type: .int8)
            return values.reduce(0.0) { $0 + Double(pow(q.dequantize(q.quantize($1)) - $1, 2)) } / Double(values.count)
        }
        let grid = stride(from: Float(1), through: 40, by: 0.25).map { $0 }
        let bestByBruteForce = grid.map(error).min() ?? 0
        #expect(error(h.mseBound()) <= bestByBruteForce * 1.02)
    }

    @Test("methods give different ranges where the data has outliers")
    func methodsDiffer() {
        let values = Self.heavyTailed(50_000, seed: 9)
        var h = HistogramObserver()
        values.withUnsafeBufferPointer { h.observe($0) }
        let minMax = h.maxAbs, percentile = h.percentileBound(99.99), entropy = h.entropyBound(), mse = h.mseBound()
        #expect(minMax == 40)
        // Percentile and entropy ignore the 0.01% outliers at 40 and keep the Laplace body
        // (|x| ≲ 11). MSE weighs them: clipping five values from 40 to ~10 would cost
        // 5·30² ≈ 4500 in squared error against ~350 saved in rounding, so it clips only a little.
        #expect(percentile < minMax / 2)
        #expect(entropy < minMax / 2)
        #expect(mse < minMax && mse > minMax / 2)
        #expect(Set([percentile, entropy, mse]).count == 3, "\(percentile) \(entropy) \(mse)")
    }

    @Test("entropy keeps the full range of uniform data (nothing to gain by clipping)")
    func entropyUniform() {
        var g = SeededGenerator(seed: 1)
        let values = (0..<50_000).map { _ in Float.random(in: -1...1, using: &g) }
        var h = HistogramObserver()
        values.withUnsafeBufferPointer { h.observe($0) }
        #expect(h.entropyBound() >= 0.9 * h.maxAbs)
    }
}

/// Entropy calibration of non-negative (post-ReLU) activations.
@Suite("entropy calibration after ReLU")
struct EntropyZeroBinTests {
    @Test("leaving the zero spike out of the KL never clips more, and still clips real outliers")
    func zeroBin() {
        var g = SeededGenerator(seed: 4)
        // 70% exact zeros (ReLU), an exponential body (mean 1), and 0.01% outliers at 30.
        var values = (0..<50_000).map { i -> Float in
            if i % 10 < 7 { return 0 }
            return -log(Float.random(in: Float.ulpOfOne..<1, using: &g))
        }
        for i in stride(from: 3, to: values.count, by: 10_000) { values[i] = 30 }
        var h = HistogramObserver()
        values.withUnsafeBufferPointer { h.observe($0) }
        let withZeros = h.entropyBound(levels: 256), withoutZeros = h.entropyBound(levels: 256, ignoringZeroBin: true)
        let body = values.filter { $0 > 0 && $0 < 30 }.sorted()
        let p999 = body[Int(0.999 * Double(body.count))]
        #expect(withoutZeros >= withZeros, "\(withoutZeros) vs \(withZeros)")
        #expect(withoutZeros >= 0.5 * p999, "keeps most of the body (99.9th percentile \(p999)): \(withoutZeros)")
        #expect(withoutZeros < 30, "the outliers at 30 are still clipped")
    }
}

/// The O(levels)-per-candidate entropy search against its definition.
@Suite("entropy bound: fast search equals the definition")
struct EntropyFastSearchTests {
    @Test(
        "same bound on heavy-tailed and post-ReLU data, signed and unsigned levels",
        arguments: [UInt64(1), 2, 3, 4, 5])
    func sameBound(_ seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        // Well-conditioned histograms only: on data with nearly all mass in one bin (e.g. x³)
        // many candidates tie to within rounding and the two summation orders may pick
        // different, equally good bounds.
        let shapes: [(Float) -> Float] = [{ $0 }, { max(0, $0) }]
        for shape in shapes {
            var values = CalibrationTests.heavyTailed(20_000, seed: seed).map(shape)
            for i in stride(from: 0, to: values.count, by: 97) { values[i] = Float.random(in: -3...3, using: &g) }
            var h = HistogramObserver()
            values.withUnsafeBufferPointer { h.observe($0) }
            for (levels, zero) in [(128, false), (256, false), (256, true)] {
                #expect(
                    h.entropyBound(levels: levels, ignoringZeroBin: zero) == h.entropyBoundByDefinition(levels: levels, ignoringZeroBin: zero),
                    "seed \(seed) levels \(levels) zero-bin \(zero)")
            }
        }
    }
}
