import Foundation
import TensorCore

/// A loss value and its gradient with respect to the student logits.
public struct LossResult: Sendable {
    /// Mean loss over the batch.
    public var loss: Double
    /// `d loss / d logits`, N×classes.
    public var gradient: Tensor
}

/// The training losses on N×classes logits. All are means over the batch, computed with
/// stable log-softmax; sums are accumulated in Double.
public enum Losses {
    /// Row-wise log-softmax of `z / temperature` (N×C row-major) into `out`.
    @inline(__always)
    static func logSoftmax(_ z: UnsafePointer<Float>, classes c: Int, temperature t: Float, into out: UnsafeMutablePointer<Float>) {
        var m = -Float.infinity
        for k in 0..<c { m = max(m, z[k] / t) }
        var sum: Float = 0
        for k in 0..<c { sum += exp(z[k] / t - m) }
        let lse = m + log(sum)
        for k in 0..<c { out[k] = z[k] / t - lse }
    }

    /// Cross-entropy from logits with label smoothing `ε`: targets `q = (1 − ε)·onehot(y) + ε/C`,
    /// `loss = −mean_n Σ_c q_c · log softmax(s)_c`, gradient `(softmax(s) − q)/N`.
    public static func crossEntropy(logits s: Tensor, labels: [Int], smoothing: Float = 0) throws -> LossResult {
        try distillation(student: s, teacher: nil, labels: labels, temperature: 1, alpha: 0, smoothing: smoothing)
    }

    /// The distillation loss `α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(y, s)`, mean over
    /// the batch. `α` is the weight of the soft (teacher) term. Without `labels` the loss is the
    /// pure soft term `T²·KL` (α taken as 1); without `teacher` it is CE (α taken as 0).
    /// Gradient: `α·T·(softmax(s/T) − softmax(t/T))/N + (1 − α)·(softmax(s) − q)/N`. With
    /// `partners` and `weights` (mixup) the hard target of row n is `w_n·q(y_n) + (1 − w_n)·q(p_n)`.
    public static func distillation(
        student s: Tensor, teacher t: Tensor?, labels: [Int]?, temperature: Float, alpha: Float,
        smoothing: Float = 0, partners: [Int]? = nil, weights: [Float]? = nil
    ) throws -> LossResult {
        let n = s.shape[0], c = s.count / max(1, s.shape[0])
        guard n > 0, c > 0 else { throw ModelPressError.internalError("loss on empty logits \(s.shape)") }
        if let t, t.shape != s.shape { throw ModelPressError.internalError("teacher logits \(t.shape) vs student \(s.shape)") }
        if let labels, labels.count != n { throw ModelPressError.internalError("\(labels.count) labels for \(n) samples") }
        if partners.map({ $0.count != n }) ?? false || weights.map({ $0.count != n }) ?? false || (partners == nil) != (weights == nil) {
            throw ModelPressError.internalError("mixup partners and weights must both be given, one per sample")
        }
        let soft: Float = t == nil ? 0 : (labels == nil ? 1 : alpha)
        let hard: Float = labels == nil ? 0 : 1 - soft
        var grad = try Tensor(shape: s.shape)
        var total = 0.0
        var ls = [Float](repeating: 0, count: c), lt = [Float](repeating: 0, count: c), l1 = [Float](repeating: 0, count: c)
        let tt = temperature, invN = 1 / Float(n)
        s.storage.withUnsafeBufferPointer { sp in
            grad.storage.withUnsafeMutableBufferPointer { gp in
                ls.withUnsafeMutableBufferPointer { lsp in
                    lt.withUnsafeMutableBufferPointer { ltp in
                        l1.withUnsafeMutableBufferPointer { l1p in
                            for row in 0..<n {
                                let z = sp.baseAddress! + row * c, g = gp.baseAddress! + row * c
                                if soft > 0, let t {
                                    t.storage.withUnsafeBufferPointer { tp in
                                        logSoftmax(tp.baseAddress! + row * c, classes: c, temperature: tt, into: ltp.baseAddress!)
                                    }
                                    logSoftmax(z, classes: c, temperature: tt, into: lsp.baseAddress!)
                                    var kl = 0.0
                                    for k in 0..<c {
                                        let pt = exp(ltp[k])
                                        kl += Double(pt) * Double(ltp[k] - lsp[k])
                                        g[k] += soft * tt * (exp(lsp[k]) - pt) * invN
                                    }
                                    total += Double(soft * tt * tt) * kl
                                }
                                if hard > 0, let labels {
                                    logSoftmax(z, classes: c, temperature: 1, into: l1p.baseAddress!)
                                    var ce = 0.0
                                    let off = smoothing / Float(c)
                                    let own = weights?[row] ?? 1, partner = partners?[row] ?? labels[row]
                                    for k in 0..<c {
                                        let q = (1 - smoothing) * ((k == labels[row] ? own : 0) + (k == partner ? 1 - own : 0)) + off
                                        ce -= Double(q) * Double(l1p[k])
                                        g[k] += hard * (exp(l1p[k]) - q) * invN
                                    }
                                    total += Double(hard) * ce
                                }
                            }
                        }
                    }
                }
            }
        }
        return LossResult(loss: total / Double(n), gradient: grad)
    }
}
