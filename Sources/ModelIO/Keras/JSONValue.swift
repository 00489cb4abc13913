import Foundation

/// A parsed JSON document (Keras model configs): typed access without `Any`.
public enum JSONValue: Equatable, Sendable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses UTF-8 JSON text.
    public static func parse(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// Member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The string, or nil.
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    /// The number, or nil.
    public var double: Double? { if case .number(let d) = self { return d }; return nil }
    /// The number when it is a whole number, or nil.
    public var int: Int? {
        guard let d = double, d.rounded() == d, abs(d) < 1e15 else { return nil }
        return Int(d)
    }
    /// The boolean, or nil.
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The elements of an array, or nil.
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    /// The members of an object, or nil.
    public var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    /// Whether this is JSON `null`.
    public var isNull: Bool { self == .null }
}
