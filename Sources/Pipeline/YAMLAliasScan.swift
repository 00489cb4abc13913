/// Finds YAML anchors (`&name`) and aliases (`*name`) before the text is composed. Yams
/// expands aliases while composing and hashes whole subtrees for duplicate keys, so a
/// 500-byte "billion laughs" file costs exponential time and memory there; ModelPress files
/// never need aliases, so they are refused from the text, in one linear pass.
enum YAMLAliasScan {
    /// Line and column (1-based) of the first anchor or alias indicator outside quoted
    /// scalars, comments and block scalars (`|`, `>`), with the indicator; nil when none.
    static func first(in text: String) -> (line: Int, column: Int, indicator: Character)? {
        guard text.utf8.contains(UInt8(ascii: "&")) || text.utf8.contains(UInt8(ascii: "*")) else { return nil }
        var quote: UInt8?  // the open quote, across lines
        var blockParentIndent: Int?  // inside a block scalar whose key line had this indent
        for (lineIndex, line) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let bytes = Array(line)
            let indent = bytes.prefix { $0 == UInt8(ascii: " ") }.count
            if let parent = blockParentIndent {
                if indent == bytes.count || indent > parent { continue }
                blockParentIndent = nil
            }
            var previous: UInt8? = nil
            var lastToken: (start: Int, end: Int)? = nil  // the last plain token, for block indicators
            var i = 0
            while i < bytes.count {
                let c = bytes[i]
                defer { i += 1 }
                if let open = quote {
                    if open == UInt8(ascii: "\"") && c == UInt8(ascii: "\\") {
                        i += 1
                    } else if c == open {
                        if open == UInt8(ascii: "'") && i + 1 < bytes.count && bytes[i + 1] == c { i += 1 } else { quote = nil }
                    }
                    previous = c
                    continue
                }
                let atTokenStart = previous.map { Self.separators.contains($0) } ?? true
                if c == UInt8(ascii: "#") && atTokenStart { break }
                if atTokenStart && (c == UInt8(ascii: "\"") || c == UInt8(ascii: "'")) {
                    quote = c
                } else if atTokenStart && (c == UInt8(ascii: "&") || c == UInt8(ascii: "*")), i + 1 < bytes.count, !Self.separators.contains(bytes[i + 1]) {
                    return (lineIndex + 1, i + 1, Character(Unicode.Scalar(c)))
                } else if atTokenStart && c != UInt8(ascii: " ") {
                    lastToken = (i, i)
                } else if c != UInt8(ascii: " "), let token = lastToken, token.end == i - 1 {
                    lastToken = (token.start, i)
                }
                previous = c
            }
            if quote == nil, let token = lastToken, Self.isBlockIndicator(bytes[token.start...token.end]) {
                blockParentIndent = indent
            }
        }
        return nil
    }

    /// Bytes after which a new token starts.
    private static let separators: Set<UInt8> = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ",")]

    /// `|` or `>` with optional chomping and indentation indicators (`|-`, `>+2`).
    private static func isBlockIndicator(_ token: ArraySlice<UInt8>) -> Bool {
        guard let first = token.first, first == UInt8(ascii: "|") || first == UInt8(ascii: ">") else { return false }
        return token.dropFirst().allSatisfy { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) }
    }
}
