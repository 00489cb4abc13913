import Foundation

/// Markdown rendering for people and for `$GITHUB_STEP_SUMMARY`.
extension VerificationReport {
    /// A gate table with ✅/❌, the metrics of both models, the bootstrap interval and notes.
    public func markdown() -> String {
        var lines = ["## ModelPress verify: \(passed ? "✅ passed" : "❌ failed")", ""]
        lines.append("Reference `\(reference.path)` · candidate `\(candidate.path)` · data `\(data.path)` (\(data.samples) samples, outputs \(data.outputShape))")
        lines.append("")
        if gates.isEmpty {
            lines.append("No gate was requested (`--max-drop`, `--max-relative-drop`, `--min-agreement`, `--max-kl`, `--max-robustness-drop`, `--min-noise-accuracy`).")
        } else {
            lines += ["| Gate | Value | Limit | Result |", "|---|---:|---:|:---:|"]
            for g in gates {
                lines.append("| `\(g.name)` | \(fixed(g.value)) | \(g.comparison) \(fixed(g.limit)) | \(g.passed ? "✅" : "❌") |")
            }
        }
        lines += ["", "### Metrics", ""]
        if reference.accuracy != nil || candidate.accuracy != nil {
            lines += ["| Metric | Reference | Candidate |", "|---|---:|---:|"]
        }
        func row(_ name: String, _ r: Double?, _ c: Double?) {
            guard r != nil || c != nil else { return }
            lines.append("| \(name) | \(r.map(fixed) ?? "–") | \(c.map(fixed) ?? "–") |")
        }
        row("top-1 accuracy", reference.accuracy, candidate.accuracy)
        row("top-5 accuracy", reference.top5Accuracy, candidate.top5Accuracy)
        row("macro-F1", reference.macroF1, candidate.macroF1)
        row(
            "ROC-AUC (\(reference.rocAUC?.kind == "binary" ? "binary" : "one-vs-rest macro"))",
            reference.rocAUC?.value, candidate.rocAUC?.value)
        lines += ["", "| Between the models | Value |", "|---|---:|"].dropFirst(lines.last == "" ? 1 : 0)
        if let agreement { lines.append("| top-1 agreement | \(fixed(agreement)) |") }
        if let meanKL { lines.append("| mean KL(reference‖candidate), nats | \(fixed(meanKL)) |") }
        lines.append("| max \\|Δ output\\| | \(fixed(drift.maxAbsDifference)) |")
        lines.append("| mean \\|Δ output\\| (MAE) | \(fixed(drift.meanAbsDifference)) |")
        lines.append("| MSE | \(fixed(drift.meanSquaredError)) |")
        if let b = bootstrap {
            lines += [
                "",
                "Accuracy difference (candidate − reference): **\(signed(b.difference))**, "
                    + "\(Int((b.confidence * 100).rounded()))% CI [\(signed(b.lower)), \(signed(b.upper))] "
                    + "(paired bootstrap, \(b.resamples) resamples, seed \(b.seed))"
                    + (b.lower <= 0 && b.upper >= 0 ? " — the interval contains 0: the difference may be noise." : "."),
            ]
        }
        if let r = reference.perClass, let c = candidate.perClass, r.count <= 20 {
            lines += [
                "", "<details><summary>Per-class precision / recall / F1</summary>", "",
                "| Class | Support | Ref P | Ref R | Ref F1 | Cand P | Cand R | Cand F1 |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for (a, b) in zip(r, c) {
                lines.append(
                    "| \(a.label) | \(a.support) | \(fixed(a.precision)) | \(fixed(a.recall)) | \(fixed(a.f1)) | "
                        + "\(fixed(b.precision)) | \(fixed(b.recall)) | \(fixed(b.f1)) |")
            }
            lines += ["", "</details>"]
        }
        if let robustness { lines += [""] + robustness.markdownLines() }
        if !notes.isEmpty { lines += [""] + notes.map { "- \($0)" } }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `value` with 4 decimals (scientific below 1e-4, so tiny drifts stay visible).
func fixed(_ value: Double) -> String {
    if value != 0 && abs(value) < 1e-4 { return String(format: "%.2e", value) }
    return String(format: "%.4f", value)
}

/// `value` with 4 decimals and an explicit sign.
func signed(_ value: Double) -> String { (value >= 0 ? "+" : "") + String(format: "%.4f", value) }
