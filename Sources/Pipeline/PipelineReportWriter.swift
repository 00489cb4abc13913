import Evaluation
import Foundation
import TensorCore

/// Writes a run's `report.json`, `report.md`, `junit.xml` and `charts/*.svg`, each atomically.
enum PipelineReportWriter {
    static func write(_ report: PipelineReport, to runDirectory: String) throws {
        try AtomicFile.write(try ReportJSON.encode(report), to: "\(runDirectory)/report.json")
        try FileManager.default.createDirectory(atPath: "\(runDirectory)/charts", withIntermediateDirectories: true)
        var charts: [(file: String, caption: String)] = []
        for (name, caption, chart) in self.charts(report) {
            try AtomicFile.write(Data(chart.render().utf8), to: "\(runDirectory)/charts/\(name)")
            charts.append(("charts/\(name)", caption))
        }
        for v in report.verifications {
            guard let svg = v.robustness?.svg() else { continue }
            try AtomicFile.write(Data(svg.utf8), to: "\(runDirectory)/charts/robustness-stage-\(v.stage).svg")
            charts.append(("charts/robustness-stage-\(v.stage).svg", "Accuracy under noise and attacks, stage \(v.stage)"))
        }
        try AtomicFile.write(Data(markdown(report, charts: charts).utf8), to: "\(runDirectory)/report.md")
        try AtomicFile.write(Data(junit(report).utf8), to: "\(runDirectory)/junit.xml")
    }

    /// The charts worth drawing for this run.
    static func charts(_ report: PipelineReport) -> [(String, String, BarChartSVG)] {
        var charts: [(String, String, BarChartSVG)] = []
        let layers = report.layers
        if !layers.isEmpty {
            let kib: @Sendable (Double) -> String = { String(format: "%.1f KiB", $0 / 1024) }
            charts.append(
                (
                    "layers.svg", "Weight bytes per layer, original vs final",
                    BarChartSVG(
                        title: "Weight bytes per layer", categories: layers.map { "\($0.layer) (\($0.bits)-bit)" },
                        series: [
                            .init(name: "original (float32)", color: "#9aa5b1", values: layers.map { Double($0.originalBytes ?? 0) }),
                            .init(name: "final", color: "#2f6fdf", values: layers.map { Double($0.bytes) }),
                        ],
                        format: kib, maximum: nil)
                ))
            if layers.contains(where: { $0.sparsity >= 0.05 }) {
                charts.append(
                    (
                        "sparsity.svg", "Sparsity per layer (share of weights that are zero)",
                        BarChartSVG(
                            title: "Sparsity per layer", categories: layers.map(\.layer),
                            series: [.init(name: "sparsity", color: "#d9822b", values: layers.map { $0.sparsity * 100 })],
                            format: { String(format: "%.1f%%", $0) }, maximum: 100)
                    ))
            }
        }
        let measured = report.verifications.filter { $0.referenceAccuracy != nil && $0.candidateAccuracy != nil }
        if !measured.isEmpty {
            charts.append(
                (
                    "accuracy.svg", "Top-1 accuracy before and after, per verify stage",
                    BarChartSVG(
                        title: "Top-1 accuracy (%)", categories: measured.map { "stage \($0.stage)" },
                        series: [
                            .init(name: "original", color: "#9aa5b1", values: measured.map { ($0.referenceAccuracy ?? 0) * 100 }),
                            .init(name: "compressed", color: "#2f6fdf", values: measured.map { ($0.candidateAccuracy ?? 0) * 100 }),
                        ],
                        format: { String(format: "%.2f%%", $0) }, maximum: 100)
                ))
        }
        return charts
    }

    /// The Markdown report (ready for `$GITHUB_STEP_SUMMARY`).
    static func markdown(_ report: PipelineReport, charts: [(file: String, caption: String)]) -> String {
        func bytes(_ n: Int?) -> String {
            guard let n else { return "–" }
            return n >= 1 << 20 ? String(format: "%.2f MiB", Double(n) / 1048576) : String(format: "%.1f KiB", Double(n) / 1024)
        }
        func count(_ n: Int?) -> String { n.map(String.init) ?? "–" }
        func ratio(_ a: Int?, _ b: Int?) -> String {
            guard let a, let b, b > 0 else { return "" }
            return String(format: " (%.3f×)", Double(a) / Double(b))
        }
        func percent(_ x: Double?) -> String { x.map { String(format: "%.2f%%", $0 * 100) } ?? "–" }
        func number(_ x: Double?) -> String { x.map { String(format: "%.4g", $0) } ?? "–" }
        let verdict =
            switch report.status {
            case "passed": "PASSED"
            case "gate_failed": "FAILED (a gate did not hold)"
            default: "ERROR (a stage did not finish)"
            }
        var md = ["# Pipeline `\(report.pipeline)`: \(verdict)", ""]
        let o = report.original
        md += ["| | original | final |", "|---|---:|---:|"]
        if let f = report.finalModel {
            md += [
                "| file | \(bytes(o.fileBytes)) | \(bytes(f.fileBytes))\(ratio(f.fileBytes, o.fileBytes)) |",
                "| file, gzip -9 | \(bytes(o.gzipBytes)) | \(bytes(f.gzipBytes))\(ratio(f.gzipBytes, o.gzipBytes)) |",
                "| weight bytes | \(bytes(o.weightBytes)) | \(bytes(f.weightBytes))\(ratio(f.weightBytes, o.weightBytes)) |",
                "| parameters (nonzero) | \(count(o.parameters)) (\(count(o.nonzeros))) | \(count(f.parameters)) (\(count(f.nonzeros))) |",
                "| MACs per sample | \(count(o.macs)) | \(count(f.macs))\(ratio(f.macs, o.macs)) |",
                "| peak activation bytes per sample | \(bytes(o.peakActivationBytes)) | \(bytes(f.peakActivationBytes))\(ratio(f.peakActivationBytes, o.peakActivationBytes)) |",
            ]
        } else {
            md += ["| file | \(bytes(o.fileBytes)) | – |"]
        }
        for v in report.verifications {
            md.append("| top-1 accuracy (stage \(v.stage)) | \(percent(v.referenceAccuracy)) | \(percent(v.candidateAccuracy)) |")
        }
        if !report.gates.isEmpty {
            md += ["", "## Gates", "", "| stage | gate | value | limit | result |", "|---:|---|---:|---:|---|"]
            for g in report.gates {
                md.append("| \(g.stage) | \(g.name) | \(number(g.value)) | \(g.comparison ?? "") \(number(g.limit)) | \(g.passed ? "pass" : "**FAIL**") |")
            }
        }
        for v in report.verifications {
            guard let robustness = v.robustness else { continue }
            md += ["", "## Robustness (stage \(v.stage))", ""] + robustness.markdownLines().dropFirst(2)
        }
        md += ["", "## Stages", "", "| # | stage | status | time | output |", "|---:|---|---|---:|---:|"]
        for s in report.stages {
            let status = s.exitCode == 0 ? (s.cached ? "cached" : "done") : (s.exitCode == 1 ? "gate failed" : "error (exit \(s.exitCode))")
            md.append("| \(s.index) | \(s.kind) | \(status) | \(String(format: "%.1f s", s.seconds)) | \(s.outputBytes.map(bytes) ?? "–") |")
        }
        if !report.layers.isEmpty {
            md += [
                "", "## Layers of the final model", "", "| layer | op | params | nonzeros | sparsity | bits | bytes | original bytes |",
                "|---|---|---:|---:|---:|---:|---:|---:|",
            ]
            for l in report.layers {
                md.append("| \(l.layer) | \(l.op) | \(l.parameters) | \(l.nonzeros) | \(String(format: "%.1f%%", l.sparsity * 100)) | \(l.bits) | \(l.bytes) | \(l.originalBytes.map(String.init) ?? "–") |")
            }
        }
        for chart in charts { md += ["", "![\(chart.caption)](\(chart.file))"] }
        return md.joined(separator: "\n") + "\n"
    }

    /// JUnit XML: a test case per stage (error when it did not finish) and per gate (failure when it did not hold).
    static func junit(_ report: PipelineReport) -> String {
        let suite = "modelpress pipeline \(report.pipeline)"
        var cases: [String] = []
        for s in report.stages {
            let body = s.exitCode > 1 ? "<error message=\"stage \(s.index) (\(s.kind)) exited with \(s.exitCode)\"/>" : ""
            cases.append("  <testcase classname=\"\(escapeXML(suite))\" name=\"stage \(s.index) \(s.kind)\" time=\"\(String(format: "%.3f", s.seconds))\">\(body)</testcase>")
        }
        for g in report.gates {
            let body = g.passed ? "" : "<failure message=\"\(escapeXML(g.message))\"/>"
            cases.append("  <testcase classname=\"\(escapeXML(suite))\" name=\"stage \(g.stage) gate \(escapeXML(g.name))\">\(body)</testcase>")
        }
        let failures = report.gates.filter { !$0.passed }.count
        let errors = report.stages.filter { $0.exitCode > 1 }.count
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites>
            <testsuite name="\(escapeXML(suite))" tests="\(cases.count)" failures="\(failures)" errors="\(errors)">
            \(cases.joined(separator: "\n"))
            </testsuite>
            </testsuites>

            """
    }
}
