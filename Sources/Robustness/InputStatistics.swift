import TensorCore

/// Per-feature mean and standard deviation, and the overall range, of one model input over a
/// test set: the scale of relative Gaussian noise and the box adversarial inputs stay in.
struct InputStatistics {
    /// Population standard deviation of each feature (flat per-sample index).
    var std: [Float]
    /// Smallest value anywhere in the input.
    var minimum: Float
    /// Largest value anywhere in the input.
    var maximum: Float

    /// Statistics of the values `batches` yields, each N × `features` row-major (Welford, in Double).
    init(features: Int, batches: (_ body: (Tensor) throws -> Void) throws -> Void) throws {
        var count = 0.0
        var mean = [Double](repeating: 0, count: features), m2 = [Double](repeating: 0, count: features)
        var lo = Float.infinity, hi = -Float.infinity
        try batches { batch in
            let rows = batch.count / max(1, features)
            batch.storage.withUnsafeBufferPointer { x in
                for r in 0..<rows {
                    count += 1
                    for f in 0..<features {
                        let v = x[r * features + f]
                        lo = min(lo, v)
                        hi = max(hi, v)
                        let delta = Double(v) - mean[f]
                        mean[f] += delta / count
                        m2[f] += delta * (Double(v) - mean[f])
                    }
                }
            }
        }
        std = m2.map { count > 0 ? Float(($0 / count).squareRoot()) : 0 }
        minimum = lo.isFinite ? lo : 0
        maximum = hi.isFinite ? hi : 0
    }
}

/// The random source of one sample under one condition: independent of batch size, of the
/// other samples and of the other conditions asked, so a condition's draws depend only on the
/// seed, its name and the sample's index.
func sampleRandom(seed: UInt64, condition: String, sample: Int) -> TrainingRandomSource {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the name
    for byte in condition.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    var mixer = TrainingRandomSource(seed: seed ^ hash ^ (UInt64(sample) &* 0xc2b2_ae3d_27d4_eb4f))
    return TrainingRandomSource(seed: mixer.next())
}
