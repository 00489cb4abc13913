import Foundation

/// A hand-written SVG line chart (no dependencies): axes with round ticks, one `<polyline>`
/// per series with a marker per point, an optional horizontal reference line per entry of
/// `references` (drawn as `<line>`), and a legend. The same inputs give the same bytes: numbers
/// are printed with fixed decimals and the colours come from a fixed palette.
public struct LineChartSVG: Sendable {
    /// One line of the chart.
    public struct Series: Sendable {
        /// Legend text.
        public var name: String
        /// Points in data coordinates, drawn in the given order.
        public var points: [(x: Double, y: Double)]

        /// A series named `name`.
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    /// A dashed horizontal line at `y`, labelled.
    public struct Reference: Sendable {
        /// Data y coordinate.
        public var y: Double
        /// Text drawn at its right end.
        public var label: String

        /// A reference line.
        public init(y: Double, label: String) {
            self.y = y
            self.label = label
        }
    }

    /// Title above the plot.
    public var title: String
    /// X axis label.
    public var xLabel: String
    /// Y axis label.
    public var yLabel: String
    /// The lines.
    public var series: [Series]
    /// Horizontal reference lines (e.g. a baseline and a budget).
    public var references: [Reference] = []
    /// X range; default: the data's.
    public var xRange: ClosedRange<Double>?
    /// Y range; default: the data's (and references'), padded to round ticks.
    public var yRange: ClosedRange<Double>?
    /// Format of tick labels on the y axis (`String(format:)`), applied to the value times `yScale`.
    public var yTickFormat = "%.2f"
    /// Factor applied to y values in tick labels (100 shows fractions as percent).
    public var yScale = 1.0
    /// Overall width in pixels.
    public var width = 760
    /// Overall height in pixels.
    public var height = 440

    /// A chart of `series`.
    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// Ten distinguishable colours (Tableau 10), cycled; after ten, lines are dashed too.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    /// Round tick positions covering `range`, about `target` of them (steps 1, 2 or 5 × 10^k).
    public static func ticks(_ range: ClosedRange<Double>, target: Int = 6) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let raw = span / Double(max(1, target))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = Int((range.lowerBound / step - 1e-9).rounded(.up)), last = Int((range.upperBound / step + 1e-9).rounded(.down))
        guard first <= last else { return [range.lowerBound] }
        return (first...last).map { Double($0) * step }
    }

    /// The SVG document.
    public func render() -> String {
        let legendWidth = min(260, 40 + 7 * (series.map(\.name.count).max() ?? 0))
        let left = 64.0, top = 40.0, right = Double(width - legendWidth) - 16, bottom = Double(height) - 52
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) } + references.map(\.y)
        let xr = xRange ?? ((xs.min() ?? 0)...(max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-9)))
        var yr = yRange ?? ((ys.min() ?? 0)...(max(ys.max() ?? 1, (ys.min() ?? 0) + 1e-9)))
        if yRange == nil {
            let t = Self.ticks(yr)
            if let step = t.count > 1 ? t[1] - t[0] : nil {
                yr = ((yr.lowerBound / step).rounded(.down) * step)...((yr.upperBound / step).rounded(.up) * step)
            }
        }
        func px(_ x: Double) -> Double { left + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - yr.lowerBound) / max(yr.upperBound - yr.lowerBound, 1e-12) * (bottom - top) }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }

        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
            <rect x="0" y="0" width="\(width)" height="\(height)" fill="#ffffff"/>
            <text x="\(f(Double(width) / 2))" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

            """
        // Grid and ticks.
        for t in Self.ticks(yr) {
            s += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(right))\" y2=\"\(f(py(t)))\" stroke=\"#e6e6e6\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(String(format: yTickFormat, t * yScale))</text>\n"
        }
        for t in Self.ticks(xr, target: 10) {
            s += "<line class=\"grid\" x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(bottom))\" stroke=\"#f0f0f0\"/>\n"
            s += "<text x=\"\(f(px(t)))\" y=\"\(f(bottom + 16))\" text-anchor=\"middle\">\(Self.format(t))</text>\n"
        }
        s += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(right))\" y2=\"\(f(bottom))\" stroke=\"#333333\"/>\n"
        s += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(bottom))\" stroke=\"#333333\"/>\n"
        s += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(Double(height) - 12))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        s += "<text x=\"16\" y=\"\(f((top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f((top + bottom) / 2)))\">\(Self.escape(yLabel))</text>\n"
        for (i, r) in references.enumerated() {
            // The first label sits above its line, later ones below, so close lines stay readable.
            s += "<line class=\"reference\" x1=\"\(f(left))\" y1=\"\(f(py(r.y)))\" x2=\"\(f(right))\" y2=\"\(f(py(r.y)))\" stroke=\"#555555\" stroke-dasharray=\"2 3\"/>\n"
            s += "<text x=\"\(f(left + 6))\" y=\"\(f(py(r.y) + (i == 0 ? -4 : 13)))\" fill=\"#555555\" font-size=\"11\">\(Self.escape(r.label))</text>\n"
        }
        // Series and legend.
        for (i, series) in series.enumerated() {
            let colour = Self.palette[i % Self.palette.count]
            let dash = i >= Self.palette.count ? " stroke-dasharray=\"6 3\"" : ""
            let points = series.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            s += "<g class=\"series\">\n<title>\(Self.escape(series.name))</title>\n"
            s += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
            for p in series.points { s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.5\" fill=\"\(colour)\"/>\n" }
            s += "</g>\n"
            let ly = top + 8 + Double(i) * 18
            s += "<line class=\"legend\" x1=\"\(f(right + 16))\" y1=\"\(f(ly))\" x2=\"\(f(right + 36))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
            s += "<text x=\"\(f(right + 42))\" y=\"\(f(ly + 4))\">\(Self.escape(series.name))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// A tick label: up to 2 decimals, trailing zeros dropped.
    static func format(_ v: Double) -> String {
        var t = String(format: "%.2f", v)
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t == "-0" ? "0" : t
    }

    /// `text` with XML's special characters escaped (`escapeXML`).
    public static func escape(_ text: String) -> String { escapeXML(text) }
}
