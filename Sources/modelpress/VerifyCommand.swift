import ArgumentParser
import Evaluation
import Foundation
import ModelIO
import ModelLoading
import TensorCore

/// `modelpress verify`: compares a candidate model (as shipped) with its reference on test
/// data, checks the accuracy gates and writes JSON / Markdown / JUnit reports.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare a compressed model with its reference on test data and check accuracy gates (CI).",
        discussion: """
            Exit 0 when every gate holds, 1 when one fails (the reports are still written), 2 for bad \
            input. Gates: --max-drop, --max-relative-drop, --min-agreement, --max-kl. See docs/ci.md.
            """)

    @Option(help: "Reference model (any MODEL format), usually the uncompressed original.")
    var reference: String

    @Option(help: "Candidate model (any MODEL format), read from disk: the file that ships.")
    var candidate: String

    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var output: OutputOptions

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
        let data = try dataset.open(requireLabels: limits.needsLabels)
        let referenceGraph = try ModelLoader.load(reference)
        let candidateGraph = try ModelLoader.load(candidate)
        let referenceOutputs = try predict(referenceGraph, path: reference, data: data, label: "reference")
        let candidateOutputs = try predict(candidateGraph, path: candidate, data: data, label: "candidate")
        guard referenceOutputs.shape == candidateOutputs.shape else {
            throw ModelPressError.invalidArgument(
                """
                \(candidate): outputs have shape \(candidateOutputs.shape) on \(dataset.data); \
                the reference \(reference) gives \(referenceOutputs.shape).
                HINT: verify compares two versions of the same model; pick the matching reference.
                """)
        }
        let classes = referenceOutputs.rank == 2 ? (referenceOutputs.shape.last ?? 0) : 0
        let isClassifier = classes >= 2
        if !isClassifier && (limits.needsLabels || limits.needsClasses) {
            throw ModelPressError.invalidArgument(
                """
                \(reference): outputs of shape \(referenceOutputs.shape) are not N×classes, so accuracy, \
                agreement and KL gates cannot be measured (only MSE/MAE drift).
                HINT: drop --max-drop / --max-relative-drop / --min-agreement / --max-kl for this model.
                """)
        }
        let labels = isClassifier && data.y != nil ? try data.labels(0..<data.count, classes: classes) : nil
        let summary = DataSummary(
            path: dataset.data, xKey: dataset.xKey, yKey: data.y == nil ? nil : dataset.yKey,
            samples: data.count, outputShape: referenceOutputs.shape)
        let settings = VerificationSettings(
            limits: limits, bootstrapResamples: bootstrap, seed: seed,
            producer: "modelpress \(ModelPressVersion.string)")
        let result = VerificationReport.compare(
            reference: referenceOutputs, candidate: candidateOutputs, labels: labels,
            data: summary, referencePath: reference, candidatePath: candidate,
            settings: settings)
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
        for (name, path) in [("--report", report), ("--markdown", markdown), ("--junit", junit)] {
            guard let path else { continue }
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ModelPressError.invalidArgument("\(name) \(path): the directory \(directory) does not exist.\nHINT: create it first.")
            }
        }
        for path in [reference, candidate] where !FileManager.default.isReadableFile(atPath: path) {
            throw ModelPressError.fileNotFound(path: path)
        }
    }

    /// All outputs of `graph` on `data`; errors about the data also name the model.
    func predict(_ graph: Graph, path: String, data: DatasetFile, label: String) throws -> Tensor {
        do {
            let runner = try DatasetRunner(graph: graph, batchSize: dataset.batchSize)
            let progress = ProgressReporter("verify \(label)", quiet: output.quiet)
            return try runner.predict(data, progress: progress.update)
        } catch ModelPressError.invalidData(let file, let dataPath, let message) {
            // Name the model before the HINT line: "… expects [8, 8, 1] (reference model m.h5).\nHINT: …"
            let parts = message.components(separatedBy: "\nHINT:")
            let named = parts[0] + " (\(label) model \(path))" + parts.dropFirst().map { "\nHINT:" + $0 }.joined()
            throw ModelPressError.invalidData(file: file, path: dataPath, message: named)
        } catch ModelPressError.invalidArgument(let message) where message.hasPrefix("the model") {
            throw ModelPressError.invalidArgument("\(path): \(message)")
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
        for g in result.gates { print("\(g.passed ? "PASS" : "FAIL")  \(g.name): \(g.message)") }
        print(result.passed ? "verify: passed" : "verify: FAILED")
    }
}
