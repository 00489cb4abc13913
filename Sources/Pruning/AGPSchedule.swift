/// The gradual pruning schedule of Zhu & Gupta 2017 ("To prune, or not to prune"), with
/// initial sparsity 0: at step `t` of `K`, `s_t = s_f · (1 − (1 − t/K)³)`. Steep at first,
/// when the network has many redundant weights, and flat at the end, so the last steps remove
/// few weights and the fine-tuning after them recovers.
public enum AGPSchedule {
    /// The fraction of the final sparsity reached at step `step` (1…`steps`): `1 − (1 − t/K)³`;
    /// exactly 1 at `step == steps`.
    public static func fraction(step: Int, steps: Int) -> Double {
        guard steps >= 1, step < steps else { return 1 }
        guard step >= 1 else { return 0 }
        let remaining = 1 - Double(step) / Double(steps)
        return 1 - remaining * remaining * remaining
    }

    /// `s_t` for final sparsity `final`.
    public static func sparsity(final: Double, step: Int, steps: Int) -> Double {
        final * fraction(step: step, steps: steps)
    }
}
