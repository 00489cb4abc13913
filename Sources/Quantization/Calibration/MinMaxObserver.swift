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
    @discardableResult
    public mutating func observe(_ values: UnsafeBufferPointer<Float>) -> Bool {
        var lo = min, hi = max
        for v in values {
            guard v.isFinite else { return false }
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        (min, max) = (lo, hi)
        count += values.count
        return true
    }
}
