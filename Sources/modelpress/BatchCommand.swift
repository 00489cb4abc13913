import ArgumentParser
import Foundation
import Pipeline
import TensorCore

/// `modelpress batch`: many models × pipelines, in parallel, shardable across machines.
struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run a manifest of pipelines (entries, or a matrix of pipelines × models).",
        discussion: """
            Each entry runs as `modelpress run` in its own process and folder (OUT/<entry>/, log in \
            OUT/<entry>.log); a failing entry never stops the others. --shard K/N keeps the entries \
            whose name hashes (FNV-1a) to K of N, so a Kubernetes indexed Job, a Slurm array or a CI \
            matrix splits one manifest without overlap. Writes OUT/summary.json and OUT/summary.md. \
            Exit 0 all passed, 1 a gate failed, 2 an entry errored (or bad input). See docs/pipelines.md.
            """)

    @Argument(help: "Batch manifest (YAML, `version: 1`).")
    var manifest: String

    @Option(help: "Entries run at the same time (each child uses one BLAS thread when > 1).")
    var jobs = 1

    @Option(help: "Run only shard K of N (1-based), e.g. 2/3.")
    var shard: String?

    @Option(help: "Folder for the runs and the summary.")
    var out = "out/batch"

    @Flag(help: "Print the entries this shard would run; run nothing.")
    var list = false

    @OptionGroup var policy: LoadPolicyOptions

    @Flag(name: .shortAndLong, help: "Print only the summary.")
    var quiet = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be ≥ 1 (got \(jobs)).") }
    }

    func run() throws {
        policy.apply()
        let shard = try self.shard.map(Shard.init)
        let all = try BatchManifest.load(manifest).entries
        let entries = all.filter { shard?.contains($0.name) ?? true }
        if list {
            for entry in entries { print(entry.name) }
            return
        }
        let runner = BatchRunner(executable: try RunCommand.executablePath(), outDirectory: out, jobs: jobs)
        if !quiet { FileHandle.standardError.writeBestEffort(Data("batch: \(entries.count) of \(all.count) entries, \(jobs) at a time → \(runner.outDirectory)\n".utf8)) }
        var done = 0
        let results = try runner.run(entries) { result in
            done += 1
            if !quiet {
                let line = String(format: "[%d/%d] %@: %@ (%.1f s)\n", done, entries.count, result.entry.name, result.status, result.seconds)
                FileHandle.standardError.writeBestEffort(Data(line.utf8))
            }
        }
        let summary = BatchSummary(results: results, shard: shard, total: all.count)
        try AtomicFile.write(try summary.json(), to: "\(runner.outDirectory)/summary.json")
        try AtomicFile.write(Data(summary.markdown().utf8), to: "\(runner.outDirectory)/summary.md")
        print(summary.markdown(), terminator: "")
        if results.contains(where: { $0.exitCode >= 2 }) {
            let names = results.filter { $0.exitCode >= 2 }.map { "\($0.entry.name) (log: \($0.log))" }
            throw ModelPressError.invalidArgument("batch: \(names.count) entr\(names.count == 1 ? "y" : "ies") errored: \(names.joined(separator: ", "))")
        }
        if results.contains(where: { $0.exitCode == 1 }) {
            throw GateFailure(message: "batch: a gate failed in " + results.filter { $0.exitCode == 1 }.map(\.entry.name).joined(separator: ", "))
        }
    }
}
