import Foundation
import Testing

/// No `switch` over `Op` in `Sources/` has a `default:` arm: a new op must be decided in every
/// module (the compiler then lists each switch that misses it).
@Suite struct OpSwitchCompletenessTests {
    /// Case names of `Op` (the switch labels that make a switch one over `Op`).
    static let opCases: Set<String> = [
        "conv2D", "linear", "batchNormalization", "prelu", "softmax", "maxPool2D", "averagePool2D", "globalAveragePool",
        "globalMaxPool", "flatten", "reshape", "transpose", "elementwise", "concat", "pad", "slice", "upsampleNearest",
        "split", "layerNormalization",
    ]

    @Test func noDefaultInAnySwitchOverOp() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sources = root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") && !$0.hasPrefix("ONNXProto") } ?? []
        #expect(files.count > 100)
        let opCase = try Regex(#"^\s*case \.([A-Za-z0-9]+)"#).anchorsMatchLineEndings()
        let defaultArm = try Regex(#"^\s*default:"#).anchorsMatchLineEndings()
        var offenders: [String] = []
        for file in files {
            let text = Array(try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8))
            var i = 0
            while let range = String(text[i...]).range(of: "switch ") {
                let start = i + String(text[i...]).distance(from: String(text[i...]).startIndex, to: range.lowerBound)
                guard let open = text[start...].firstIndex(of: "{") else { break }
                var depth = 0, end = open
                for j in open..<text.count {
                    if text[j] == "{" { depth += 1 } else if text[j] == "}" { depth -= 1; if depth == 0 { end = j; break } }
                }
                let body = String(text[(open + 1)..<end])
                // Only the switch's own arms: drop nested braces.
                var flat = "", level = 0
                for c in body { if c == "{" { level += 1 } else if c == "}" { level -= 1 } else if level == 0 { flat.append(c) } }
                let labels = flat.matches(of: opCase).map { String($0.output[1].substring ?? "") }
                if labels.contains(where: Self.opCases.contains), flat.firstMatch(of: defaultArm) != nil {
                    offenders.append("\(file):\(text[..<start].filter { $0 == "\n" }.count + 1)")
                }
                i = open + 1
            }
        }
        #expect(offenders.isEmpty, "switches over Op with a default: \(offenders)")
    }
}
