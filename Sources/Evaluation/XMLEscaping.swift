/// `text` with the five XML special characters escaped (and other control characters dropped).
public func escapeXML(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\n": out += "&#10;"
        case _ where scalar.value < 0x20 && scalar != "\t": continue
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
