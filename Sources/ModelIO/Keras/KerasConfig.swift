import TensorCore

/// Typed access to one layer's `config` object; every failure names the file and layer.
struct KerasConfig {
    let json: JSONValue
    let file: String
    let layer: String
    let className: String

    func fail(_ message: String, hint: String = "re-save the model with Keras, or report the config to ModelPress") -> ModelPressError {
        .invalidModel(file: file, location: "layer '\(layer)' (\(className))", message: message, hint: hint)
    }

    func has(_ key: String) -> Bool { json[key].map { !$0.isNull } ?? false }

    func string(_ key: String, default value: String) throws -> String {
        guard let v = json[key], !v.isNull else { return value }
        guard let s = v.string else { throw fail("config '\(key)' is not a string") }
        return s
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let v = json[key], !v.isNull else { return value }
        guard let b = v.bool else { throw fail("config '\(key)' is not a boolean") }
        return b
    }

    func float(_ key: String, default value: Float) throws -> Float {
        try optionalFloat(key) ?? value
    }

    func optionalFloat(_ key: String) throws -> Float? {
        guard let v = json[key], !v.isNull else { return nil }
        guard let d = v.double else { throw fail("config '\(key)' is not a number") }
        return Float(d)
    }

    func int(_ key: String, default value: Int) throws -> Int {
        guard let v = json[key], !v.isNull else { return value }
        guard let i = v.int else { throw fail("config '\(key)' is not an integer") }
        return i
    }

    /// An integer list; a single integer `n` is read as `[n, n, …]` of length `count`.
    func ints(_ key: String, count: Int, default value: [Int]? = nil) throws -> [Int] {
        guard let v = json[key], !v.isNull else {
            if let value { return value }
            throw fail("config '\(key)' is missing")
        }
        if let i = v.int { return [Int](repeating: i, count: count) }
        guard let list = v.array?.compactMap(\.int), list.count == v.array?.count, list.count == count else {
            throw fail("config '\(key)' is not \(count) integers")
        }
        return list
    }

    /// Nested pairs like ZeroPadding2D's `((top, bottom), (left, right))`, also given as one
    /// integer or one pair `(h, w)` (symmetric).
    func pairs(_ key: String) throws -> [[Int]] {
        guard let v = json[key], !v.isNull else { throw fail("config '\(key)' is missing") }
        if let i = v.int { return [[i, i], [i, i]] }
        guard let list = v.array, list.count == 2 else { throw fail("config '\(key)' is not a pair") }
        if let a = list[0].int, let b = list[1].int { return [[a, a], [b, b]] }
        let nested = list.map { $0.array?.compactMap(\.int) ?? [] }
        guard nested.allSatisfy({ $0.count == 2 }) else { throw fail("config '\(key)' is not two pairs of integers") }
        return nested
    }

    /// An input shape (`batch_shape`, `batch_input_shape`, `shape`): batch first, unknown dims as nil.
    func shape(_ key: String) -> [Int?]? {
        guard let list = json[key]?.array else { return nil }
        return list.map { $0.int }
    }
}
