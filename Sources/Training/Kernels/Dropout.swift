import TensorCore

/// Inverted dropout as Keras applies it in training: each element is kept with probability
/// `1 − rate` and scaled by `1/(1 − rate)`. `mask` holds the per-element factor (0 or
/// `1/(1 − rate)`); the gradient is `dy ⊙ mask`.
public struct DropoutMask: Sendable {
    /// Per-element factor, same count as the tensor it applies to.
    public var factors: [Float]

    /// A mask for `count` elements drawn from `random`.
    public init(count: Int, rate: Float, random: inout TrainingRandom) {
        let keep = 1 / (1 - rate)
        factors = [Float](repeating: 0, count: count)
        factors.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = random.nextUnitFloat() >= rate ? keep : 0 }
        }
    }

    /// `t ⊙ mask` in place (forward and backward are the same product).
    public func apply(_ t: inout Tensor) {
        t.storage.withUnsafeMutableBufferPointer { p in
            factors.withUnsafeBufferPointer { f in for i in p.indices { p[i] *= f[i] } }
        }
    }
}
