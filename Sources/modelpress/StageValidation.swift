import ArgumentParser
import Pipeline
import TensorCore

/// Checks a pipeline stage's command line with the command's own parser and validation, so a
/// stage accepts exactly the options its command has; errors point at the option's YAML line.
enum StageValidation {
    static func check(_ invocation: StageInvocation) throws {
        let arguments = Array(invocation.arguments.dropFirst())
        do {
            switch invocation.stage.kind {
            case .prune: _ = try PruneCommand.parse(arguments)
            case .distill: _ = try DistillCommand.parse(arguments)
            case .train: _ = try TrainCommand.parse(arguments)
            case .quantize: _ = try QuantizeCommand.parse(arguments)
            case .verify: _ = try VerifyCommand.parse(arguments)
            case .export: _ = try ExportCommand.parse(arguments)
            }
        } catch {
            let message = ModelPressCommand.message(for: error)
            let stage = invocation.stage
            let option = stage.options.first { option in
                let flag = option.flag
                return [flag + "'", flag + " ", flag + "\n", flag + ":", flag + ","].contains { message.contains($0) } || message.hasSuffix(flag)
                    || { if case .list(let items) = option.value { return items.contains { message.contains("'\($0)'") } } else { return false } }()
            }
            let location = (message.hasPrefix("Unknown option") ? option?.keyLocation : option?.location) ?? stage.location
            let key = option.map { " option '\($0.key)':" } ?? ""
            throw ModelPressError.invalidArgument(
                """
                \(location): \(stage.title)\(key) \(message)
                HINT: a stage takes the options of `modelpress \(stage.kind.rawValue)` in snake_case (max_drop for --max-drop); see docs/pipelines.md.
                """)
        }
    }
}
