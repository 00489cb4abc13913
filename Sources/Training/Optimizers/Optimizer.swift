import Foundation
import TensorCore

/// The optimizers, with Keras 3's update rules.
public enum OptimizerKind: String, Sendable, CaseIterable, Codable {
    /// Stochastic gradient descent, optional (Nesterov) momentum.
    case sgd
    /// Adam (Kingma & Ba) as Keras writes it: ε outside the square root.
    case adam
    /// Adam with decoupled weight decay (Keras default decay 0.004).
    case adamw
}

/// Optimizer hyper-parameters (Keras defaults).
public struct OptimizerConfiguration: Sendable, Codable, Equatable {
    /// Which update rule.
    public var kind: OptimizerKind
    /// SGD momentum (Keras default 0).
    public var momentum: Float = 0
    /// SGD Nesterov momentum.
    public var nesterov = false
    /// Adam β₁.
    public var beta1: Float = 0.9
    /// Adam β₂.
    public var beta2: Float = 0.999
    /// Adam ε, added outside the square root as Keras does.
    public var epsilon: Float = 1e-7
    /// Decoupled weight decay `w ← w − w·wd·lr` before each update (Keras 3 applies it the same
    /// way for every optimizer); `nil` means none, except AdamW's default 0.004.
    public var weightDecay: Float?
    /// Clip gradients so their global L2 norm is at most this (Keras `global_clipnorm`).
    public var clipGlobalNorm: Float?

    /// A configuration for `kind` with Keras defaults.
    public init(kind: OptimizerKind) { self.kind = kind }

    /// The weight decay in effect.
    public var effectiveWeightDecay: Float { weightDecay ?? (kind == .adamw ? 0.004 : 0) }
}

/// An optimizer with its per-parameter slots; parameters and gradients are aligned arrays
/// (the `TrainableModel.parameters` order), so updates never depend on dictionary order.
public struct Optimizer: Sendable {
    /// Hyper-parameters.
    public let configuration: OptimizerConfiguration
    /// Updates applied so far (Keras `iterations`).
    public private(set) var iterations = 0
    private var first: [[Float]] = []
    private var second: [[Float]] = []

    /// A fresh optimizer.
    public init(_ configuration: OptimizerConfiguration) { self.configuration = configuration }

    /// The global L2 norm of `gradients` (accumulated in Double, in order).
    public static func globalNorm(_ gradients: [Tensor]) -> Double {
        var sum = 0.0
        for g in gradients { g.storage.withUnsafeBufferPointer { p in for v in p { sum += Double(v) * Double(v) } } }
        return sum.squareRoot()
    }

    /// Applies one update with learning rate `lr` to `parameters` given `gradients`.
    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], learningRate lr: Float) {
        if first.isEmpty {
            first = parameters.map { [Float](repeating: 0, count: $0.count) }
            second = configuration.kind == .sgd ? [] : parameters.map { [Float](repeating: 0, count: $0.count) }
        }
        var clip: Float = 1
        if let limit = configuration.clipGlobalNorm {
            let norm = Optimizer.globalNorm(gradients)
            if norm > Double(limit) { clip = Float(Double(limit) / norm) }
        }
        iterations += 1
        let c = configuration, decay = c.effectiveWeightDecay * lr
        let t = Double(iterations)
        let alpha = Float(Double(lr) * (1 - pow(Double(c.beta2), t)).squareRoot() / (1 - pow(Double(c.beta1), t)))
        for index in parameters.indices {
            gradients[index].storage.withUnsafeBufferPointer { gp in
                parameters[index].storage.withUnsafeMutableBufferPointer { wp in
                    first[index].withUnsafeMutableBufferPointer { mp in
                        if decay != 0 { for i in wp.indices { wp[i] -= wp[i] * decay } }
                        switch c.kind {
                        case .sgd:
                            if c.momentum == 0 {
                                for i in wp.indices { wp[i] -= lr * (gp[i] * clip) }
                            } else {
                                for i in wp.indices {
                                    let g = gp[i] * clip
                                    mp[i] = c.momentum * mp[i] - lr * g
                                    wp[i] += c.nesterov ? c.momentum * mp[i] - lr * g : mp[i]
                                }
                            }
                        case .adam, .adamw:
                            second[index].withUnsafeMutableBufferPointer { vp in
                                for i in wp.indices {
                                    let g = gp[i] * clip
                                    mp[i] += (g - mp[i]) * (1 - c.beta1)
                                    vp[i] += (g * g - vp[i]) * (1 - c.beta2)
                                    wp[i] -= mp[i] * alpha / (vp[i].squareRoot() + c.epsilon)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
