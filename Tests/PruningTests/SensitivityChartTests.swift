import Evaluation
import Foundation
import XCTest

/// The SVG line chart the sensitivity report draws: round ticks, escaping, one polyline per
/// series at the right pixel positions, and the same bytes for the same input.
final class SensitivityChartTests: XCTestCase {
    func assertClose(_ a: [Double], _ b: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(a)", file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-12, "\(a)", file: file, line: line) }
    }

    func testTicksAreRoundAndCoverTheRange() {
        assertClose(LineChartSVG.ticks(0...1, target: 10), [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1])
        assertClose(LineChartSVG.ticks(0.37...0.97, target: 6), [0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
        assertClose(LineChartSVG.ticks(20...100), [20, 40, 60, 80, 100])
        assertClose(LineChartSVG.ticks(0.955...0.97, target: 6), [0.955, 0.96, 0.965, 0.97])  // span 0.015 / 6 = 0.0025 → step 0.005
        assertClose(LineChartSVG.ticks(5...5), [5])
    }

    func testEscapesText() {
        XCTAssertEqual(LineChartSVG.escape("a<b & \"c\" > 'd'"), "a&lt;b &amp; &quot;c&quot; &gt; &apos;d&apos;")
    }

    func testPolylinePixelsAndDeterminism() {
        var chart = LineChartSVG(
            title: "t & u", xLabel: "x", yLabel: "y",
            series: [.init(name: "a", points: [(0, 0), (1, 1)]), .init(name: "<b>", points: [(0, 1), (0.5, 0.5), (1, 0)])])
        chart.xRange = 0...1
        chart.yRange = 0...1
        chart.width = 600
        chart.height = 400
        let svg = chart.render()
        XCTAssertEqual(svg, chart.render())
        // Plot box: left 64, right = 600 − legend width (40 + 7·3 = 61) − 16 = 523, top 40, bottom 400 − 52 = 348.
        XCTAssertTrue(svg.contains("<polyline points=\"64.00,348.00 523.00,40.00\""), svg)
        XCTAssertTrue(svg.contains("<polyline points=\"64.00,40.00 293.50,194.00 523.00,348.00\""), svg)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        XCTAssertTrue(svg.contains("&lt;b&gt;") && svg.contains("t &amp; u"))
    }
}
