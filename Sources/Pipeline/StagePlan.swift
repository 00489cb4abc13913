import Foundation

/// One stage as it runs: the `modelpress` arguments, the files it reads and writes.
public struct StageInvocation: Sendable {
    /// The stage as written.
    public var stage: StageSpec
    /// Its folder under `stages/`: `02-quantize`.
    public var directory: String
    /// The `modelpress` arguments (without the program).
    public var arguments: [String]
    /// Files the stage reads besides its input model (data, teacher, student, reference).
    public var inputs: [String]
    /// The model the stage reads (the original or the previous stage's output).
    public var inputModel: String
    /// The model file the stage writes (nil for verify).
    public var outputModel: String?
    /// The verify report (JSON) the stage writes, for verify stages.
    public var verifyReport: String?
    /// The command's own JSON report on stdout (prune, quantize), saved here.
    public var stdoutFile: String
    /// For export stages: the artifact's path in the run folder.
    public var artifact: String?
}

/// The order stages run in and their command lines, for a run folder.
public enum StagePlan {
    /// Invocations in execution order. A verify stage judges the bytes that ship: export
    /// stages right after it run first, and verify reads the last one's file.
    public static func make(_ spec: PipelineSpec, runDirectory: String) -> [StageInvocation] {
        var order: [StageSpec] = []
        var verifies: [StageSpec] = []
        for stage in spec.stages {
            switch stage.kind {
            case .verify: verifies.append(stage)
            case .export: order.append(stage)
            default: order += verifies; verifies = []; order.append(stage)
            }
        }
        order += verifies

        var invocations: [StageInvocation] = []
        var current = spec.model
        var lastExport: String?
        for stage in order {
            let directory = String(format: "%02d-%@", stage.index, stage.kind.rawValue)
            let folder = "\(runDirectory)/stages/\(directory)"
            var invocation = arguments(for: stage, spec: spec, current: current, lastExport: lastExport, folder: folder)
            invocation.directory = directory
            if stage.kind.changesModel {
                lastExport = nil
            } else if stage.kind == .export {
                lastExport = invocation.outputModel
            }
            if let output = invocation.outputModel { current = output }
            invocations.append(invocation)
        }
        return invocations
    }

    private static func arguments(for stage: StageSpec, spec: PipelineSpec, current: String, lastExport: String?, folder: String) -> StageInvocation {
        let data = spec.data
        let seed = String(spec.seed)
        let model = "\(folder)/model.onnx"
        var args: [String]
        var inputs: [String] = []
        var output: String? = model
        var verifyReport: String?
        var artifact: String?
        func given(_ key: String) -> Bool { stage.option(key) != nil }
        func file(_ key: String, _ fallback: String?) -> String? {
            let path = stage.option(key)?.text ?? fallback
            if let path { inputs.append(path) }
            return path
        }
        func modelPath(_ word: String) -> String {
            switch word {
            case "original": inputs.append(spec.model); return spec.model
            case "current": return current
            default: inputs.append(word); return word
            }
        }
        if current == spec.model { inputs.append(current) }  // keyed by content, not by where the repository sits
        let keys = (given("x_key") ? [] : ["--x-key", data.xKey]) + (given("y_key") ? [] : ["--y-key", data.yKey])
        var skip: Set<String> = []
        switch stage.kind {
        case .prune:
            args = ["prune", current, "-o", model, "--json"]
            if stage.option("schedule")?.text == "agp" || given("fine_tune_data") {
                args += ["--fine-tune-data", file("fine_tune_data", data.train) ?? ""] + keys
                if !given("seed") { args += ["--seed", seed] }
                skip.insert("fine_tune_data")
            }
        case .distill, .train:
            let student = stage.option("student")?.text ?? current
            if stage.kind == .distill, student.contains("/") { inputs.append(student) }
            args = [stage.kind.rawValue]
            if stage.kind == .distill { args += ["--teacher", modelPath(stage.option("teacher")?.text ?? "current")] }
            args +=
                [
                    "--student", stage.kind == .train ? current : student, "--data", file("data", data.train) ?? "", "-o", model,
                    "--log", "\(folder)/training.json",
                ] + keys
            if !given("seed") { args += ["--seed", seed] }
            if let validation = data.validation, !given("validation"), !given("validation_split") {
                inputs.append(validation)
                args += ["--validation", validation]
            }
            skip.formUnion(["teacher", "student", "data"])
        case .quantize:
            args =
                [
                    "quantize", current, "-o", model, "--calibration", file("calibration", data.calibration ?? data.train) ?? "",
                    "--json", "--report-md", "\(folder)/report.md",
                ] + (given("x_key") ? [] : ["--x-key", data.xKey])
            if given("max_drop") { args += ["--data", file("data", data.test) ?? ""] + (given("y_key") ? [] : ["--y-key", data.yKey]) }
            skip.formUnion(["calibration", "data"])
        case .verify:
            verifyReport = "\(folder)/verify.json"
            output = nil
            args =
                [
                    "verify", "--reference", modelPath(stage.option("reference")?.text ?? "original"), "--candidate", lastExport ?? current,
                    "--data", file("data", data.test) ?? "", "--report", "\(folder)/verify.json",
                    "--markdown", "\(folder)/verify.md", "--junit", "\(folder)/junit.xml",
                ] + keys
            if !given("seed") { args += ["--seed", seed] }
            if let shifted = stage.option("shifted_data")?.text { inputs += namedFiles(shifted).map(\.file) }
            skip.formUnion(["reference", "data"])
        case .export:
            args = ["export", current, "-o", model]
            artifact = stage.option("path")?.text ?? "\(spec.name).onnx"
            skip.insert("path")
        }
        for option in stage.options where !skip.contains(option.key) { args += option.arguments }
        return StageInvocation(
            stage: stage, directory: "", arguments: args, inputs: inputs, inputModel: current,
            outputModel: output, verifyReport: verifyReport, stdoutFile: "\(folder)/stdout.txt", artifact: artifact)
    }
}

/// The (name, file) pairs of a `NAME=FILE,…` list (`shifted_data`).
func namedFiles(_ text: String) -> [(name: String, file: String)] {
    text.split(separator: ",").compactMap { entry in
        let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }
}
