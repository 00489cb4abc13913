/// The pipeline as it ran, written to `pipeline.resolved.yaml`: absolute paths, defaults
/// filled in, `--set` overrides applied, and each stage's command line as a comment.
enum ResolvedPipeline {
    /// The YAML text.
    static func yaml(_ spec: PipelineSpec, plan: [StageInvocation]) -> String {
        func quoted(_ text: String) -> String {
            let plain = text.range(of: #"^[A-Za-z0-9_./:@+-][A-Za-z0-9_./:@+-]*$"#, options: .regularExpression) != nil
            return plain ? text : "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = [
            "# Resolved from \(spec.file) by modelpress run.", "version: \(spec.version)", "name: \(spec.name)",
            "model: \(quoted(spec.model))", "data:",
        ]
        for (key, value) in [
            ("train", spec.data.train), ("calibration", spec.data.calibration), ("test", spec.data.test),
            ("validation", spec.data.validation), ("x_key", spec.data.xKey), ("y_key", spec.data.yKey),
        ] {
            if let value { lines.append("  \(key): \(quoted(value))") }
        }
        lines += ["seed: \(spec.seed)", "stages:"]
        for stage in spec.stages {
            if let invocation = plan.first(where: { $0.stage.index == stage.index }) {
                lines.append("  # modelpress " + invocation.arguments.map(quoted).joined(separator: " "))
            }
            if stage.options.isEmpty {
                lines.append("  - \(stage.kind.rawValue): {}")
                continue
            }
            lines.append("  - \(stage.kind.rawValue):")
            for option in stage.options {
                switch option.value {
                case .scalar(let text): lines.append("      \(option.key): \(quoted(text))")
                case .flag(let on): lines.append("      \(option.key): \(on)")
                case .list(let items): lines.append("      \(option.key): [\(items.map(quoted).joined(separator: ", "))]")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
