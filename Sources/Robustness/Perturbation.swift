import Evaluation

/// One way of perturbing the test inputs, at one level.
public enum Perturbation: Sendable, Equatable {
    /// Gaussian noise of standard deviation σ: in the input's units when `absolute`, else σ
    /// times each feature's standard deviation over the test set.
    case gaussian(sigma: Double, absolute: Bool)
    /// Each feature set to the data's minimum or maximum (half each), with probability `rate`.
    case saltAndPepper(rate: Double)
    /// Each feature set to 0 with probability `rate`.
    case dropout(rate: Double)
    /// FGSM: `x + ε·sign(∇ₓ loss)`, clipped to the data's range.
    case fgsm(epsilon: Double)
    /// PGD: `steps` signed-gradient steps of `stepSize` (nil: 2.5·ε / steps), each projected
    /// back into the ε ball around `x` and the data's range; no random start.
    case pgd(epsilon: Double, steps: Int, stepSize: Double?)
    /// Each non-zero token id replaced, with probability `rate`, by another id drawn uniformly
    /// from 1..<vocabulary (0 is padding and is kept).
    case tokenSubstitution(rate: Double)

    /// The report's kind.
    public var kind: ConditionKind {
        switch self {
        case .gaussian: .gaussian
        case .saltAndPepper: .saltAndPepper
        case .dropout: .dropout
        case .fgsm: .fgsm
        case .pgd: .pgd
        case .tokenSubstitution: .tokenSubstitution
        }
    }

    /// σ, ε or the rate.
    public var level: Double {
        switch self {
        case .gaussian(let sigma, _): sigma
        case .saltAndPepper(let rate), .dropout(let rate), .tokenSubstitution(let rate): rate
        case .fgsm(let epsilon), .pgd(let epsilon, _, _): epsilon
        }
    }

    /// The condition's name in reports and gate names, e.g. `gaussian_sigma_0.1`.
    public var name: String {
        switch self {
        case .gaussian(let sigma, let absolute): "gaussian_sigma_\(sigma)\(absolute ? "_abs" : "")"
        case .saltAndPepper(let rate): "salt_and_pepper_\(rate)"
        case .dropout(let rate): "dropout_\(rate)"
        case .fgsm(let epsilon): "fgsm_eps_\(epsilon)"
        case .pgd(let epsilon, let steps, _): "pgd_eps_\(epsilon)_steps_\(steps)"
        case .tokenSubstitution(let rate): "token_substitution_\(rate)"
        }
    }

    /// Whether the perturbation reads or writes real-valued features (not token ids).
    var needsRealInput: Bool { kind != .tokenSubstitution }
}
