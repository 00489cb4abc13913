import Foundation

extension RobustnessSummary {
    /// A Markdown table: both models' accuracy, their agreement and the robustness drop with
    /// its interval, one row per condition (clean first), then the skipped conditions.
    public func markdownLines() -> [String] {
        func value(_ v: Double?) -> String { v.map(fixed) ?? "–" }
        var lines = [
            "### Robustness", "",
            "Perturbed input `\(perturbedInput)`; adversarial gradients from the \(attackSource); seed \(seed).", "",
            "| Condition | Reference | Candidate | Agreement | Robustness drop | 95% CI |",
            "|---|---:|---:|---:|---:|---|",
            "| clean | \(value(cleanReferenceAccuracy)) | \(value(cleanCandidateAccuracy)) | | | |",
        ]
        for c in conditions {
            let interval = c.dropInterval.map { "[\(signed($0.lower)), \(signed($0.upper))]" } ?? "–"
            lines.append(
                "| \(c.name) | \(value(c.referenceAccuracy)) | \(value(c.candidateAccuracy)) | \(fixed(c.agreement)) | "
                    + "\(c.robustnessDrop.map(signed) ?? "–") | \(interval) |")
        }
        lines += ["", "Robustness drop: how much more accuracy the candidate loses under the condition than the reference does."]
        if !skipped.isEmpty { lines += [""] + skipped.map { "- skipped `\($0.name)`: \($0.reason)" } }
        return lines
    }

    /// Accuracy of both models against the perturbation level, one panel per family measured
    /// (Gaussian σ, adversarial ε, rates), level 0 being the clean data. Nil without labels
    /// or without a level-based condition.
    public func svg() -> String? {
        guard let cleanReference = cleanReferenceAccuracy, let cleanCandidate = cleanCandidateAccuracy else { return nil }
        let families: [(title: String, axis: String, kinds: [ConditionKind])] = [
            ("Gaussian noise", "σ", [.gaussian]),
            ("Adversarial (from the \(attackSource))", "ε", [.fgsm, .pgd]),
            ("Random corruption", "rate", [.saltAndPepper, .dropout, .tokenSubstitution]),
        ]
        var panels: [LineChartSVG] = []
        for family in families {
            var series: [LineChartSVG.Series] = []
            for kind in family.kinds {
                let measured = conditions.filter { $0.kind == kind && $0.level != nil }.sorted { $0.level! < $1.level! }
                guard !measured.isEmpty else { continue }
                for (model, clean, accuracy) in [
                    ("reference", cleanReference, measured.map(\.referenceAccuracy)),
                    ("candidate", cleanCandidate, measured.map(\.candidateAccuracy)),
                ] {
                    let points = [(x: 0.0, y: clean)] + zip(measured, accuracy).compactMap { c, a in a.map { (x: c.level!, y: $0) } }
                    series.append(LineChartSVG.Series(name: family.kinds.count > 1 ? "\(model) \(kind.rawValue)" : model, points: points))
                }
            }
            guard !series.isEmpty else { continue }
            var chart = LineChartSVG(title: family.title, xLabel: family.axis, yLabel: "top-1 accuracy (%)", series: series)
            chart.yRange = 0...1
            chart.yScale = 100
            chart.yTickFormat = "%.0f"
            chart.width = 560
            panels.append(chart)
        }
        guard !panels.isEmpty else { return nil }
        let width = panels.reduce(0) { $0 + $1.width }, height = panels.map(\.height).max() ?? 0
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">\n"
        var x = 0
        for panel in panels {
            s += "<g transform=\"translate(\(x) 0)\">\n" + panel.render() + "</g>\n"
            x += panel.width
        }
        return s + "</svg>\n"
    }
}
