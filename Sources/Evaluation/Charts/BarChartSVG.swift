import Foundation

/// A horizontal grouped bar chart as a self-contained SVG: one row per category, one bar per
/// series, a legend on top. Same data ⇒ same bytes.
public struct BarChartSVG: Sendable {
    /// One series of values, one per category.
    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var values: [Double]

        public init(name: String, color: String, values: [Double]) {
            self.name = name
            self.color = color
            self.values = values
        }
    }

    public var title: String
    public var categories: [String]
    public var series: [Series]
    /// Formats a bar's value label.
    public var format: @Sendable (Double) -> String
    /// The value at the right end of the axis (default: the largest value).
    public var maximum: Double?

    public init(title: String, categories: [String], series: [Series], format: @escaping @Sendable (Double) -> String, maximum: Double? = nil) {
        self.title = title
        self.categories = categories
        self.series = series
        self.format = format
        self.maximum = maximum
    }

    /// The SVG document.
    public func render() -> String {
        let labelWidth = 170.0, plotWidth = 430.0, barHeight = 14.0, gap = 10.0, top = 56.0
        let rowHeight = Double(series.count) * barHeight + gap
        let height = top + Double(categories.count) * rowHeight + 16
        let largest = maximum ?? series.flatMap(\.values).max() ?? 1
        let scale = largest > 0 ? plotWidth / largest : 0
        var svg = [
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(labelWidth + plotWidth + 90))" height="\#(Int(height))" font-family="sans-serif" font-size="12">"#,
            #"<text x="8" y="20" font-size="14" font-weight="bold">\#(escape(title))</text>"#,
        ]
        for (i, s) in series.enumerated() {
            let x = 8 + Double(i) * 160
            svg.append(#"<rect x="\#(fmt(x))" y="30" width="12" height="12" fill="\#(s.color)"/><text x="\#(fmt(x + 16))" y="40">\#(escape(s.name))</text>"#)
        }
        for (row, category) in categories.enumerated() {
            let y = top + Double(row) * rowHeight
            svg.append(#"<text x="\#(fmt(labelWidth - 6))" y="\#(fmt(y + rowHeight / 2))" text-anchor="end">\#(escape(category))</text>"#)
            for (i, s) in series.enumerated() where row < s.values.count {
                let value = s.values[row], by = y + Double(i) * barHeight
                let width = max(0, value * scale)
                svg.append(#"<rect x="\#(fmt(labelWidth))" y="\#(fmt(by))" width="\#(fmt(width))" height="\#(fmt(barHeight - 2))" fill="\#(s.color)"><title>\#(escape(s.name)): \#(escape(format(value)))</title></rect>"#)
                svg.append(#"<text x="\#(fmt(labelWidth + width + 4))" y="\#(fmt(by + barHeight - 4))" font-size="10">\#(escape(format(value)))</text>"#)
            }
        }
        svg.append(##"<line x1="\##(fmt(labelWidth))" y1="\##(fmt(top - 4))" x2="\##(fmt(labelWidth))" y2="\##(fmt(height - 12))" stroke="#444"/>"##)
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    private func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String { escapeXML(text) }
}
