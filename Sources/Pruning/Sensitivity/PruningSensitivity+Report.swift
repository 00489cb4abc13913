import Evaluation
import Foundation

/// The sweep's terminal table, Markdown report and SVG chart.
extension PruningSensitivity {
    /// The SVG chart: accuracy vs sparsity, one line per layer, baseline and budget as reference lines.
    public func chart() -> LineChartSVG {
        let series = layers.map { u in
            LineChartSVG.Series(name: u.name, points: [(0, baseline)] + zip(sparsities, u.accuracy).map { ($0, $1) })
        }
        var chart = LineChartSVG(
            title: "Pruning sensitivity (\(structure)\(criterion.map { ", \($0)" } ?? "")): each layer alone",
            xLabel: "sparsity of the layer", yLabel: "top-1 accuracy (%)", series: series)
        chart.references = [.init(y: baseline, label: String(format: "unpruned %.2f%%", 100 * baseline))]
        if let d = maxDrop { chart.references.append(.init(y: baseline - d, label: String(format: "budget −%.2f pt", 100 * d))) }
        chart.xRange = 0...(sparsities.max() ?? 1)
        chart.yScale = 100
        chart.yTickFormat = "%.0f"
        return chart
    }

    /// The rows of the table: layer, params, accuracy per level (percent), suggestion.
    func tableRows() -> (header: [String], rows: [[String]]) {
        let header = ["layer", "params"] + sparsities.map { String(format: "%g", $0) } + (maxDrop == nil ? [] : ["suggested"])
        let rows = layers.map { u in
            [u.name, grouped(u.parameters)] + u.accuracy.map { String(format: "%.2f", 100 * $0) }
                + (maxDrop == nil ? [] : [u.suggested.map { String(format: "%g", $0) } ?? "none"])
        }
        return (header, rows)
    }

    /// The terminal table.
    public func table() -> String {
        let (header, rows) = tableRows()
        var lines = [
            String(format: "unpruned accuracy: %.2f%% (%d samples); accuracy (%%) with each layer pruned alone (%@):", 100 * baseline, samples, structure),
            renderTable(header: header, rows: rows, numeric: Set(1..<header.count)),
        ]
        for s in skipped { lines.append("not analysed: \(s.name): \(s.reason)") }
        if let d = maxDrop {
            lines.append(String(format: "suggested: the highest level whose drop, and every lower level's, is ≤ %.2f points — a per-layer-alone estimate.", 100 * d))
        }
        return lines.joined(separator: "\n")
    }

    /// The Markdown report written to `path`, linking the chart at `svg` (relative when it sits below the report's folder).
    public func markdown(svg: String?, relativeTo path: String) -> String {
        let (header, rows) = tableRows()
        var s = "# Pruning sensitivity: \(model)\n\n"
        s += String(
            format: "Structure `%@`%@, data `%@` (%d samples), unpruned top-1 accuracy **%.2f%%**. ", structure,
            criterion.map { ", criterion `\($0)`" } ?? "", data, samples, 100 * baseline)
        s += "Each layer is pruned alone, one-shot, without fine-tuning; cells are top-1 accuracy in percent.\n\n"
        s += "| " + header.joined(separator: " | ") + " |\n|" + header.indices.map { $0 == 0 ? " --- " : " ---: " }.joined(separator: "|") + "|\n"
        for row in rows { s += "| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
        if let d = maxDrop {
            s += String(
                format:
                    "\n**Suggested** per-layer sparsity under a %.2f-point budget: the highest level whose drop, and every lower level's, stays within it. This is a per-layer-alone estimate: pruning several layers together loses more; verify the combination.\n",
                100 * d)
        }
        if !skipped.isEmpty {
            s += "\nNot analysed:\n\n" + skipped.map { "- `\($0.name)`: \($0.reason)\n" }.joined()
        }
        if let svg {
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
            let target = URL(fileURLWithPath: svg).standardizedFileURL.path
            let link = target.hasPrefix(dir + "/") ? String(target.dropFirst(dir.count + 1)) : target
            s += "\n![accuracy vs sparsity per layer](\(link))\n"
        }
        return s
    }
}
