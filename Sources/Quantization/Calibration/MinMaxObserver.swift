/// Running minimum and maximum of every value seen (constant memory).
public struct MinMaxObserver: Equatable, Sendable {
    /// Smallest value seen (+∞ before any).
    public private(set) var min = Float.infinity
    /// Largest value seen (−∞ before any).
    public private(set) var max = -Float.infinity
    /// Values seen.
    public private(set) var count = 0

    /// An observer that has seen nothing.
    public init() {}

    /// Folds `values` in; returns false (and ignores the batch) if one is not finite.
    /// Branch-free in 8-wide SIMD: `v · 0` is 0 for every finite `v` and NaN for ±∞ / NaN, so
    /// one sum tells whether the batch was finite.
    @discardableResult
    public mutating func observe(_ values: UnsafeBufferPointer<Float>) -> Bool {
        guard let base = values.baseAddress, !values.isEmpty else { return true }
        let n = values.count
        var lo8 = SIMD8<Float>(repeating: min), hi8 = SIMD8<Float>(repeating: max), probe8 = SIMD8<Float>(repeating: 0)
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD8<Float>.self)
            lo8.replace(with: v, where: v .< lo8)
            hi8.replace(with: v, where: v .> hi8)
            probe8 += v * 0
            i += 8
        }
        var lo = lo8.min(), hi = hi8.max(), probe = probe8.sum()
        while i < n {
            let v = base[i]
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
            probe += v * 0
            i += 1
        }
        guard probe.isFinite else { return false }
        (min, max) = (lo, hi)
        count += n
        return true
    }
}
