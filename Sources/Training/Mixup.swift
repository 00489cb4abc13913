import TensorCore

/// Mixup (Zhang et al. 2018): each row of a batch blended with another row of the same batch,
/// `λ_i·x_i + (1 − λ_i)·x_π(i)`, λ_i uniform in [0, 1), π a random permutation; the hard-label
/// target is blended the same way. With a teacher its logits are recomputed on the blended rows
/// ("function matching", Beyer et al. 2022), so the student learns the teacher's function
/// between samples, where soft labels carry more than the labels do; matched features too.
public enum Mixup {
    /// The teacher run on a blended batch of its inputs: logits B×classes and the matched
    /// features (B×… each, in `FeatureDistillation.matches` order; empty without `--match`).
    public typealias TeacherOnBatch = (Tensor) throws -> (logits: Tensor, features: [Tensor])

    /// `batch` blended: inputs (and teacher inputs), partner labels and weights set, and the
    /// teacher's logits and matched features recomputed by `teacher` on the blended teacher
    /// inputs when it is given.
    public static func apply(_ batch: TrainingSet, random: inout TrainingRandom, teacher: TeacherOnBatch?) throws -> TrainingSet {
        let n = batch.count
        var partners = Array(0..<n)
        random.shuffle(&partners)
        let weights = (0..<n).map { _ in random.nextUnitFloat() }
        var mixed = try TrainingSet(
            inputs: blend(batch.inputs, partners: partners, weights: weights), labels: batch.labels, teacherLogits: nil)
        mixed.partnerLabels = batch.labels.map { labels in partners.map { labels[$0] } }
        mixed.mixWeights = weights
        if let teacher, let teacherInputs = batch.teacherInputs {
            (mixed.teacherLogits, mixed.teacherFeatures) = try teacher(blend(teacherInputs, partners: partners, weights: weights))
        }
        return mixed
    }

    /// Rows of `x` (N×…, row-major) blended: `out_i = w_i·x_i + (1 − w_i)·x_{p_i}`.
    public static func blend(_ x: Tensor, partners: [Int], weights: [Float]) -> Tensor {
        let per = x.count / max(1, x.shape[0])
        var out = x
        x.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for (row, (p, w)) in zip(partners, weights).enumerated() {
                    let a = src.baseAddress! + row * per, b = src.baseAddress! + p * per, o = dst.baseAddress! + row * per
                    for k in 0..<per { o[k] = w * a[k] + (1 - w) * b[k] }
                }
            }
        }
        return out
    }
}

extension TrainingSet {
    /// Each row's label, or under mixup the label of the larger share (training accuracy).
    var dominantLabels: [Int]? {
        guard let labels, let partners = partnerLabels, let weights = mixWeights else { return labels }
        return labels.indices.map { weights[$0] >= 0.5 ? labels[$0] : partners[$0] }
    }
}
