import Evaluation
import TensorCore

/// What `verify --robustness` measures: perturbations of the test set and other test sets.
public struct RobustnessPlan {
    /// Perturbations the user named: one that cannot apply to the model is an error (exit 2).
    public var perturbations: [Perturbation]
    /// Perturbations of `--robustness` (`defaultPerturbations` of kinds not named): one that
    /// cannot apply to the model is skipped with the reason.
    public var defaults: [Perturbation]
    /// Extra test sets (distribution shift): a name, the data and its file.
    public var shifted: [(name: String, data: any LabelledBatchSource, path: String)]
    /// Take adversarial gradients from the candidate instead of the reference (white-box).
    public var attackFromCandidate: Bool
    /// Seed of every random draw and of the bootstrap.
    public var seed: UInt64
    /// Bootstrap resamples per condition (0: no interval).
    public var bootstrapResamples: Int

    /// A plan measuring `perturbations` and `shifted`.
    public init(
        perturbations: [Perturbation], defaults: [Perturbation] = [],
        shifted: [(name: String, data: any LabelledBatchSource, path: String)] = [], attackFromCandidate: Bool = false,
        seed: UInt64 = 0, bootstrapResamples: Int = 1000
    ) {
        self.perturbations = perturbations
        self.defaults = defaults
        self.shifted = shifted
        self.attackFromCandidate = attackFromCandidate
        self.seed = seed
        self.bootstrapResamples = bootstrapResamples
    }

    /// `--robustness`: Gaussian σ 0.05 / 0.1 / 0.2 (relative), salt-and-pepper 0.05, FGSM
    /// ε 0.01 / 0.03 and token substitution 0.05 / 0.1.
    public static let defaultPerturbations: [Perturbation] = [
        .gaussian(sigma: 0.05, absolute: false), .gaussian(sigma: 0.1, absolute: false), .gaussian(sigma: 0.2, absolute: false),
        .saltAndPepper(rate: 0.05), .fgsm(epsilon: 0.01), .fgsm(epsilon: 0.03),
        .tokenSubstitution(rate: 0.05), .tokenSubstitution(rate: 0.1),
    ]

    /// Every condition in report order (by kind: Gaussian, salt-and-pepper, dropout, FGSM, PGD,
    /// token substitution; as given within a kind), each with whether the user named it.
    var conditions: [(perturbation: Perturbation, named: Bool)] {
        let all = perturbations.map { ($0, true) } + defaults.map { ($0, false) }
        let order = ConditionKind.allCases
        return all.enumerated().sorted { a, b in
            let ka = order.firstIndex(of: a.element.0.kind)!, kb = order.firstIndex(of: b.element.0.kind)!
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map { (perturbation: $0.element.0, named: $0.element.1) }
    }

    /// Refuses levels that mean nothing (negative σ or ε, rates outside 0…1, PGD without steps).
    public func validate() throws {
        for p in perturbations + defaults {
            switch p {
            case .gaussian(let v, _), .fgsm(let v):
                guard v.isFinite, v >= 0 else { throw ModelPressError.invalidArgument("\(p.kind.rawValue): σ / ε must be a number ≥ 0 (got \(v))") }
            case .pgd(let epsilon, let steps, let stepSize):
                guard epsilon.isFinite, epsilon >= 0 else { throw ModelPressError.invalidArgument("pgd: ε must be a number ≥ 0 (got \(epsilon))") }
                guard steps >= 1 else { throw ModelPressError.invalidArgument("--pgd-steps must be ≥ 1 (got \(steps))") }
                if let stepSize, !(stepSize.isFinite && stepSize > 0) {
                    throw ModelPressError.invalidArgument("--pgd-step-size must be a number > 0 (got \(stepSize))")
                }
            case .saltAndPepper(let rate), .dropout(let rate), .tokenSubstitution(let rate):
                guard (0...1).contains(rate) else { throw ModelPressError.invalidArgument("\(p.kind.rawValue): the rate must be in 0…1 (got \(rate))") }
            }
        }
        var names = Set<String>()
        for name in conditions.map(\.perturbation.name) + shifted.map({ "shifted_\($0.name)" }) where !names.insert(name).inserted {
            throw ModelPressError.invalidArgument("robustness condition '\(name)' is asked twice")
        }
    }
}
