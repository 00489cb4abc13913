import Foundation

/// How the pipeline module writes JSON: pretty, sorted keys, slashes as written (same value ⇒ same bytes).
enum ReportJSON {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
