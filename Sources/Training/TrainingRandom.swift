/// The one random generator training uses (SplitMix64): shuffles, dropout masks and weight
/// initialisation all draw from it, so equal seeds give bit-identical runs on every platform.
public struct TrainingRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator seeded with `seed`.
    public init(seed: UInt64) { state = seed }

    /// Independent streams drawn from one user seed, so initial weights, shuffling and dropout
    /// never reuse each other's numbers.
    public enum Stream: UInt64, Sendable {
        case initialization = 0x1a17_0000_0000_0001
        case shuffle = 0x5b0f_f1e0_0000_0002
        case dropout = 0xd80f_0a7e_0000_0003
        case mixup = 0x3f1c_b1e4_0000_0004
    }

    /// The generator of `stream` for the user seed `seed`.
    public init(seed: UInt64, stream: Stream) {
        var mixer = TrainingRandom(seed: seed ^ stream.rawValue)
        state = mixer.next()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A float uniform in [0, 1) with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1 / Float(1 << 24))
    }

    /// A float uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * nextUnitFloat()
    }

    /// An integer uniform in 0..<bound (bound ≥ 1), by rejection so there is no modulo bias.
    public mutating func nextIndex(below bound: Int) -> Int {
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        var v = next()
        while v >= limit { v = next() }
        return Int(v % b)
    }

    /// `values` in a Fisher–Yates random order.
    public mutating func shuffle(_ values: inout [Int]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, nextIndex(below: i + 1))
        }
    }
}
