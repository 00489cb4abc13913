import ArgumentParser
import Evaluation
import Foundation
import ModelIO
import ModelLoading
import Robustness
import TensorCore

/// `modelpress verify`: compares a candidate model (as shipped) with its reference on test
/// data, checks the accuracy gates and writes JSON / Markdown / JUnit reports.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare a compressed model with its reference on test data and check accuracy gates (CI).",
        discussion: """
            Exit 0 when every gate holds, 1 when one fails (the reports are still written), 2 for bad \
            input. Gates: --max-drop, --max-relative-drop, --min-agreement, --max-kl, and with \
            --robustness (or condition levels) --max-robustness-drop and --min-noise/adversarial/shifted-accuracy. See docs/ci.md \
            and docs/robustness.md.
            """)

    @Option(help: "Reference model (any MODEL format), usually the uncompressed original.")
    var reference: String

    @Option(help: "Candidate model (any MODEL format), read from disk: the file that ships.")
    var candidate: String

    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var policy: LoadPolicyOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Robustness") var robustness: RobustnessOptions

    @Option(help: "Largest allowed top-1 accuracy drop, reference − candidate (e.g. 0.01).")
    var maxDrop: Double?

    @Option(help: "Largest allowed accuracy drop relative to the reference accuracy (e.g. 0.02 = 2%).")
    var maxRelativeDrop: Double?

    @Option(help: "Smallest allowed top-1 agreement between the models (0…1).")
    var minAgreement: Double?

    @Option(help: "Largest allowed mean KL(reference‖candidate) in nats.")
    var maxKl: Double?

    @Option(help: "Write the JSON report (schema_version 1) here.")
    var report: String?

    @Option(help: "Write the Markdown report here (ready for $GITHUB_STEP_SUMMARY).")
    var markdown: String?

    @Option(help: "Write JUnit XML (one test case per gate) here.")
    var junit: String?

    @Option(help: "Seed of the bootstrap resampling.")
    var seed: UInt64 = 0

    @Option(help: "Bootstrap resamples for the accuracy-difference CI (0: none).")
    var bootstrap = 1000

    var limits: GateLimits {
        GateLimits(maxDrop: maxDrop, maxRelativeDrop: maxRelativeDrop, minAgreement: minAgreement, maxKL: maxKl)
    }

    func run() throws {
        try validateArguments()
        policy.apply()
        let data = try dataset.open(requireLabels: limits.needsLabels || robustness.limits.any)
        let settings = VerificationSettings(
            limits: limits, bootstrapResamples: bootstrap, seed: seed,
            producer: "modelpress \(ModelPressVersion.string)")
        var bars: [String: ProgressReporter] = [:]
        func progress(_ label: String, _ done: Int, _ total: Int) {
            if bars[label] == nil { bars[label] = ProgressReporter("verify \(label)", quiet: output.quiet) }
            bars[label]?.update(done, total)
        }
        let referenceModel = VerifiedModel(try ModelLoader.load(reference, samples: data.sampleShapes), path: reference)
        let candidateModel = VerifiedModel(try ModelLoader.load(candidate, samples: data.sampleShapes), path: candidate)
        try MemoryBudget.check(candidateModel.graph, work: .evaluate, file: candidate)
        var result = try VerificationReport.run(
            reference: referenceModel, candidate: candidateModel,
            data: data, dataPath: dataset.data, xKey: dataset.xKey, yKey: dataset.yKey, batchSize: dataset.batchSize,
            settings: settings, progress: progress)
        if robustness.requested {
            let writer = robustness.savePerturbed.map { PerturbedInputWriter(directory: $0, labels: try? data.y?.readInt64(rows: 0..<data.count)) }
            let run = RobustnessRun(
                reference: referenceModel, candidate: candidateModel, data: data, batchSize: dataset.batchSize,
                plan: try robustness.plan(dataset: dataset, seed: seed, bootstrap: bootstrap))
            let summary = try run.measure(progress: progress, sink: writer.map { w in { w.add($0, $1, $2) } })
            result.attach(summary, limits: robustness.limits)
            try writer?.write()
            if let path = robustness.robustnessSvg {
                if let svg = summary.svg() {
                    try AtomicFile.write(Data(svg.utf8), to: path)
                } else {
                    FileHandle.standardError.write(Data("warning: --robustness-svg \(path) not written: it plots accuracy, and the data has no labels\n".utf8))
                }
            }
        }
        try writeReports(result)
        printSummary(result)
        if !result.passed {
            let failed = result.gates.filter { !$0.passed }.map(\.message).joined(separator: "; ")
            throw GateFailure(message: "verify: gate failed: \(failed)")
        }
    }

    /// Refuses impossible options and unwritable report paths before any model runs.
    func validateArguments() throws {
        for (name, value) in [("--max-drop", maxDrop), ("--max-relative-drop", maxRelativeDrop), ("--max-kl", maxKl)] {
            if let value, !(value.isFinite && value >= 0) {
                throw ModelPressError.invalidArgument("\(name) must be a number ≥ 0 (got \(value))")
            }
        }
        if let minAgreement, !(0...1).contains(minAgreement) {
            throw ModelPressError.invalidArgument("--min-agreement must be in 0…1 (got \(minAgreement))")
        }
        guard bootstrap >= 0 else { throw ModelPressError.invalidArgument("--bootstrap must be ≥ 0 (got \(bootstrap))") }
        for (name, path) in [
            ("--report", report), ("--markdown", markdown), ("--junit", junit), ("--robustness-svg", robustness.robustnessSvg),
        ] {
            guard let path else { continue }
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ModelPressError.invalidArgument("\(name) \(path): the directory \(directory) does not exist.\nHINT: create it first.")
            }
        }
        if let directory = robustness.savePerturbed {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ModelPressError.invalidArgument("--save-perturbed \(directory): no such directory.\nHINT: create it first.")
            }
        }
        for path in [reference, candidate] where !FileManager.default.isReadableFile(atPath: path) {
            throw ModelPressError.fileNotFound(path: path)
        }
    }

    /// Writes each requested report atomically (all of them, whether the gates pass or not).
    func writeReports(_ result: VerificationReport) throws {
        if let report { try AtomicFile.write(try result.jsonData(), to: report) }
        if let markdown { try AtomicFile.write(Data(result.markdown().utf8), to: markdown) }
        if let junit { try AtomicFile.write(Data(result.junitXML().utf8), to: junit) }
    }

    /// A short verdict on stdout.
    func printSummary(_ result: VerificationReport) {
        func show(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "–" }
        if result.task == "classification" {
            print("accuracy: reference \(show(result.reference.accuracy))  candidate \(show(result.candidate.accuracy))  agreement \(show(result.agreement))  mean KL \(show(result.meanKL))")
        }
        print(
            String(
                format: "drift: max |Δ| %.3g  MAE %.3g  MSE %.3g", result.drift.maxAbsDifference,
                result.drift.meanAbsDifference, result.drift.meanSquaredError))
        if let b = result.bootstrap {
            print(
                String(
                    format: "accuracy difference %+.4f, 95%% CI [%+.4f, %+.4f] (%d resamples, seed %llu)",
                    b.difference, b.lower, b.upper, b.resamples, b.seed))
        }
        if let r = result.robustness {
            for c in r.conditions {
                print(
                    "\(c.name): accuracy reference \(show(c.referenceAccuracy))  candidate \(show(c.candidateAccuracy))  agreement \(show(c.agreement))  robustness drop \(c.robustnessDrop.map { String(format: "%+.4f", $0) } ?? "–")"
                )
            }
            for s in r.skipped { print("\(s.name): skipped (\(s.reason))") }
        }
        for g in result.gates { print("\(g.passed ? "PASS" : "FAIL")  \(g.name): \(g.message)") }
        print(result.passed ? "verify: passed" : "verify: FAILED")
    }
}
