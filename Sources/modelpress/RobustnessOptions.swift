import ArgumentParser
import Evaluation
import Foundation
import ModelIO
import Robustness
import TensorCore

/// `verify`'s robustness options: which perturbed and shifted conditions to measure, and the
/// gates on them (docs/robustness.md).
struct RobustnessOptions: ParsableArguments {
    @Flag(help: "Measure both models under noise and attacks: Gaussian σ 0.05,0.1,0.2, salt-and-pepper 0.05, FGSM ε 0.01,0.03, or token substitution 0.05,0.1 for token ids; a level option replaces its kind's defaults.")
    var robustness = false

    @Option(help: "Gaussian noise levels σ, comma-separated, relative to each feature's std over the data (absolute with --noise-absolute).")
    var noiseSigma: String?

    @Flag(help: "σ in the input's units instead of per-feature std.")
    var noiseAbsolute = false

    @Option(help: "Salt-and-pepper rates (each feature set to the data's min or max), comma-separated.")
    var saltPepper: String?

    @Option(help: "Dropout-noise rates (each feature set to 0), comma-separated.")
    var dropoutNoise: String?

    @Option(help: "FGSM ε levels in the input's units, comma-separated.")
    var fgsm: String?

    @Option(help: "PGD ε levels in the input's units, comma-separated.")
    var pgd: String?

    @Option(help: "PGD steps.")
    var pgdSteps = 10

    @Option(help: "PGD step size in the input's units (default 2.5·ε / steps).")
    var pgdStepSize: Double?

    @Option(help: "Token-substitution rates for models reading token ids, comma-separated.")
    var tokenSubstitution: String?

    @Option(help: "Extra test sets for distribution shift, NAME=FILE.h5, comma-separated (same --x-key / --y-key).")
    var shiftedData: String?

    @Option(help: "Adversarial gradients from the reference (transferred to the candidate, the default) or the candidate (white-box).")
    var attackFrom: AttackSource = .reference

    @Option(help: "Largest allowed robustness drop under any condition: the candidate's accuracy loss minus the reference's (e.g. 0.02).")
    var maxRobustnessDrop: Double?

    @Option(help: "Smallest allowed candidate accuracy under every noise condition (0…1).")
    var minNoiseAccuracy: Double?

    @Option(help: "Smallest allowed candidate accuracy under every attack, FGSM or PGD (0…1).")
    var minAdversarialAccuracy: Double?

    @Option(help: "Smallest allowed candidate accuracy on every --shifted-data set (0…1).")
    var minShiftedAccuracy: Double?

    @Option(help: "Write an SVG of accuracy against σ / ε for both models here.")
    var robustnessSvg: String?

    @Option(help: "Write each condition's perturbed inputs to DIR/<condition>.h5 (x, and y when labelled).")
    var savePerturbed: String?

    /// Where adversarial gradients come from.
    enum AttackSource: String, ExpressibleByArgument, CaseIterable { case reference, candidate }

    /// The robustness gates asked for.
    var limits: RobustnessLimits {
        RobustnessLimits(
            maxRobustnessDrop: maxRobustnessDrop, minNoiseAccuracy: minNoiseAccuracy, minAdversarialAccuracy: minAdversarialAccuracy,
            minShiftedAccuracy: minShiftedAccuracy)
    }

    /// The perturbations named by level options (empty when none is given).
    func namedPerturbations() throws -> [Perturbation] {
        var result: [Perturbation] = []
        result += try levels(noiseSigma, "--noise-sigma").map { .gaussian(sigma: $0, absolute: noiseAbsolute) }
        result += try levels(saltPepper, "--salt-pepper").map { .saltAndPepper(rate: $0) }
        result += try levels(dropoutNoise, "--dropout-noise").map { .dropout(rate: $0) }
        result += try levels(fgsm, "--fgsm").map { .fgsm(epsilon: $0) }
        result += try levels(pgd, "--pgd").map { .pgd(epsilon: $0, steps: pgdSteps, stepSize: pgdStepSize) }
        result += try levels(tokenSubstitution, "--token-substitution").map { .tokenSubstitution(rate: $0) }
        return result
    }

    /// Whether any condition is asked.
    var requested: Bool { robustness || shiftedData != nil || (try? namedPerturbations().isEmpty == false) == true }

    /// Refuses malformed levels, gates without conditions and unwritable outputs before any model runs.
    func validate() throws {
        let named = try namedPerturbations()
        try asUsageError { try RobustnessPlan(perturbations: named).validate() }
        if let v = maxRobustnessDrop, !(v.isFinite && v >= 0) { throw ValidationError("--max-robustness-drop must be a number ≥ 0 (got \(v)).") }
        for (name, value) in [
            ("--min-noise-accuracy", minNoiseAccuracy), ("--min-adversarial-accuracy", minAdversarialAccuracy),
            ("--min-shifted-accuracy", minShiftedAccuracy),
        ] {
            if let value, !(0...1).contains(value) { throw ValidationError("\(name) must be in 0…1 (got \(value)).") }
        }
        if limits.any || robustnessSvg != nil || savePerturbed != nil, !requested {
            throw ValidationError("robustness gates and outputs need conditions: add --robustness, or levels such as --noise-sigma 0.1 or --fgsm 0.01.")
        }
        _ = try shiftedSets()
    }

    /// `--shifted-data` as (name, file) pairs.
    func shiftedSets() throws -> [(name: String, path: String)] {
        guard let shiftedData else { return [] }
        return try shiftedData.split(separator: ",").map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
                parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
            else { throw ValidationError("--shifted-data '\(entry)' is not NAME=FILE.h5 (NAME of letters, digits, _ and -).") }
            return (parts[0], parts[1])
        }
    }

    /// The plan for `dataset` (whose x/y keys the shifted sets share).
    func plan(dataset: DatasetOptions, seed: UInt64, bootstrap: Int) throws -> RobustnessPlan {
        let named = try namedPerturbations()
        let shifted: [(name: String, data: any LabelledBatchSource, path: String)] = try shiftedSets().map {
            ($0.name, try DatasetFile(path: $0.path, xKey: dataset.xKey, yKey: dataset.yKey, requireLabels: false), $0.path)
        }
        let namedKinds = Set(named.map(\.kind))
        let defaults = robustness ? RobustnessPlan.defaultPerturbations.filter { !namedKinds.contains($0.kind) } : []
        return RobustnessPlan(
            perturbations: named, defaults: defaults, shifted: shifted, attackFromCandidate: attackFrom == .candidate,
            seed: seed, bootstrapResamples: bootstrap)
    }

    /// The numbers of a comma-separated list option.
    private func levels(_ text: String?, _ option: String) throws -> [Double] {
        guard let text else { return [] }
        return try text.split(separator: ",").map {
            guard let v = Double($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(option) '\($0)' is not a number.") }
            return v
        }
    }
}

/// Collects the perturbed inputs of each condition and writes them as HDF5 (`--save-perturbed`).
final class PerturbedInputWriter {
    private let directory: String
    private let labels: [Int64]?
    private var inputs: [String: (shape: [Int], values: [Float])] = [:]

    /// A writer into `directory`, with the test labels copied next to each input.
    init(directory: String, labels: [Int64]?) {
        self.directory = directory
        self.labels = labels
    }

    /// Appends one batch of a condition.
    func add(_ condition: String, _ rows: Range<Int>, _ input: Tensor) {
        inputs[condition, default: (Array(input.shape.dropFirst()), [])].values += input.storage
    }

    /// Writes `<directory>/<condition>.h5` for each condition, atomically.
    func write() throws {
        for (condition, input) in inputs.sorted(by: { $0.key < $1.key }) {
            let count = input.values.count / max(1, input.shape.reduce(1, *))
            try AtomicFile.write(to: "\(directory)/\(condition).h5") { temporary in
                let file = try HDF5File(creating: temporary)
                try file.root.write(input.values, shape: [count] + input.shape, as: "x")
                if let labels { try file.root.write(labels, shape: [labels.count], as: "y") }
                try file.flush()
            }
        }
    }
}
