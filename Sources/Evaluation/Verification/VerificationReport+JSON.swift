import Foundation

extension VerificationReport {
    /// The report as pretty JSON with sorted keys (schema version 1, documented in docs/ci.md).
    /// Absent metrics are written as `null`, so every key is always present (+Encoding.swift).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }
}
