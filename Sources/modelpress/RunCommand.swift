import ArgumentParser
import Foundation
import Pipeline
import TensorCore

/// `modelpress run`: one YAML file describes the whole compression; stages run in order,
/// unchanged stages come from the cache, and the run ends with reports and a verdict.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a compression pipeline (YAML): prune, distill, train, quantize, verify, export.",
        discussion: """
            The file is checked completely before any work starts (unknown keys, wrong types, missing \
            files and stage orders that cannot work are reported with their line and column). \
            Artifacts go to OUT/<name>/: stages/NN-kind/ (each stage's model, reports and logs), the \
            exported model, report.json, report.md, junit.xml, charts/*.svg, pipeline.resolved.yaml and \
            run.log. A stage whose input model, options and data are unchanged is not run again. \
            Exit 0 when every gate holds, 1 when one fails, 2 for bad input. See docs/pipelines.md.
            """)

    @Argument(help: "Pipeline file (YAML, `version: 1`).")
    var pipeline: String

    @Option(help: "Folder for the run's artifacts (OUT/<name>/).")
    var out = "out"

    @Option(name: .customLong("set"), help: "Override a key before validation: seed=3, data.test=t.h5, stages.2.method=entropy (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Check the pipeline and print each stage's command line; run nothing.")
    var dryRun = false

    @OptionGroup var policy: LoadPolicyOptions

    @Flag(name: .shortAndLong, help: "Print only errors and the final verdict.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Also print each stage's command line and output.")
    var verbose = false

    func run() throws {
        policy.apply()
        let spec = try PipelineSpec.load(pipeline, overrides: overrides)
        let runner = PipelineRunner(
            spec: spec, outDirectory: out, executable: try Self.executablePath(),
            version: ModelPressVersion.string, verbosity: quiet ? .quiet : (verbose ? .verbose : .normal))
        if dryRun {
            let existed = FileManager.default.fileExists(atPath: runner.runDirectory)
            let plan = try runner.checkedPlan(validate: StageValidation.check)
            if !existed { try? FileManager.default.removeItem(atPath: runner.runDirectory) }
            for invocation in plan {
                print("\(invocation.stage.title): modelpress \(invocation.arguments.joined(separator: " "))")
            }
            return
        }
        let report = try runner.run(validate: StageValidation.check)
        let final =
            report.finalModel.map { f in
                let ratio = f.weightBytes.flatMap { w in report.original.weightBytes.map { Double(w) / Double(max($0, 1)) } }
                return "\(f.path) (\(f.fileBytes) bytes" + (ratio.map { String(format: ", %.3f× the original's weight bytes", $0) } ?? "") + ")"
            } ?? "-"
        print("pipeline \(report.pipeline): \(report.passed ? "passed" : "FAILED")")
        print("final model: \(final)")
        print("reports: \(runner.runDirectory)/report.md, report.json, junit.xml")
        if !report.passed {
            let failed = report.gates.filter { !$0.passed }.map { "stage \($0.stage) \($0.name): \($0.message)" }
            throw GateFailure(message: "pipeline \(report.pipeline): gate failed: " + failed.joined(separator: "; "))
        }
    }

    /// This binary, which the stages run as child processes.
    static func executablePath() throws -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        if let path = Bundle.main.executablePath { return path }
        throw ModelPressError.internalError("cannot find the modelpress binary to run the stages with")
    }
}
