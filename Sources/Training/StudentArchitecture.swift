import Foundation
import ModelIO
import TensorCore

/// A student written as a small JSON file (`--student student.json`): the stacks, convolutional
/// or not, that the `dense:` / `conv:` shorthand cannot say. Layers mirror Keras layers and are
/// initialised like Keras (Glorot-uniform kernels, zero biases, BN γ 1 β 0, mean 0, variance 1).
/// Images are channels-last (H×W×C) as in the data; the graph runs them NCHW inside. Example:
///
///     {"input": [8, 8, 1],
///      "layers": [{"conv": {"filters": 8, "kernel": 3, "activation": "relu"}}, {"maxpool": 2},
///                 {"flatten": {}}, {"dense": {"units": 32, "activation": "relu"}},
///                 {"dropout": 0.1}, {"dense": {"units": 10}}]}
///
/// The last layer must give the class count (a `dense` with `units` = classes, optionally
/// followed by a softmax, which is stripped for training and written back on export).
public struct StudentArchitecture: Sendable, Equatable {
    /// Keras `padding`.
    public enum Padding: String, Sendable, Equatable { case same, valid }

    /// Conv2D, DepthwiseConv2D or SeparableConv2D.
    public struct Convolution: Sendable, Equatable {
        /// Which convolution.
        public enum Kind: String, Sendable, Equatable { case conv, depthwise = "depthwise_conv", separable = "separable_conv" }
        /// Which convolution.
        public var kind: Kind
        /// Output channels (conv, separable); depthwise gives input channels × `depthMultiplier`.
        public var filters: Int
        /// Kernel height and width.
        public var kernel: [Int]
        /// Vertical and horizontal strides.
        public var strides: [Int]
        /// `same` or `valid`.
        public var padding: Padding
        /// Channels per input channel of the depthwise step (depthwise, separable).
        public var depthMultiplier: Int
        /// Activation name applied after the layer (`linear`: none).
        public var activation: String
        /// Whether the layer adds a bias.
        public var useBias: Bool
    }

    /// MaxPooling2D / AveragePooling2D.
    public struct Pooling: Sendable, Equatable {
        /// Max (else average).
        public var max: Bool
        /// Window height and width.
        public var pool: [Int]
        /// Vertical and horizontal strides.
        public var strides: [Int]
        /// `valid` (default) or `same`.
        public var padding: Padding
    }

    /// One layer, in order.
    public enum Layer: Sendable, Equatable {
        /// A convolution (+ its activation).
        case convolution(Convolution)
        /// BatchNormalization over channels (images) or features (vectors).
        case batchNormalization(epsilon: Float, momentum: Float)
        /// A named activation.
        case activation(String)
        /// Max or average pooling.
        case pooling(Pooling)
        /// GlobalAveragePooling2D / GlobalMaxPooling2D (image → vector).
        case globalPooling(max: Bool)
        /// Flatten (image → vector).
        case flatten
        /// Dense (+ its activation).
        case dense(units: Int, activation: String, useBias: Bool)
        /// Dropout(rate) in training.
        case dropout(Float)
        /// ZeroPadding2D `[top, bottom, left, right]`.
        case zeroPadding([Int])
    }

    /// Declared per-sample input shape (channels-last); `nil`: the data's shape.
    public var input: [Int]?
    /// The layers in order.
    public var layers: [Layer]
    /// The file the spec came from (named in errors).
    public var file: String

    /// Activation names a spec may use (Keras names).
    public static let activationNames = [
        "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "softplus", "softsign", "selu", "elu",
        "exponential", "swish", "silu", "hard_swish", "hard_silu", "hard_sigmoid", "gelu", "leaky_relu",
    ]

    /// The spec in `path` when it is a ModelPress student spec (a JSON object without Keras's
    /// `class_name`); `nil` when `path` is something else (a checkpoint, a Keras architecture
    /// JSON). A spec with unknown keys or bad values throws, naming the file and the key.
    public static func load(ifSpec path: String) throws -> StudentArchitecture? {
        // Look at the first bytes only: checkpoints can be large and never start with `{`.
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        let head = (try? handle.read(upToCount: 256)) ?? nil
        try? handle.close()
        guard let head, let first = head.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }), first == UInt8(ascii: "{"),
            let data = FileManager.default.contents(atPath: path)
        else { return nil }
        let json: JSONValue
        do { json = try JSONValue.parse(String(decoding: data, as: UTF8.self)) } catch {
            throw ModelPressError.invalidModel(
                file: path, location: "student spec", message: "is not valid JSON (\(error))",
                hint: "fix the JSON syntax; see docs for the student spec format")
        }
        if json["class_name"] != nil || json["config"] != nil { return nil }
        return try StudentArchitecture(json: json, file: path)
    }

    /// Parses a spec object strictly: unknown keys, wrong types and out-of-range values throw
    /// `invalidModel` naming `file` and the key path (e.g. `layers[2].conv.filters`).
    public init(json: JSONValue, file: String) throws {
        let reader = SpecReader(file: file)
        guard let top = json.object else { throw reader.fail("(top level)", "must be a JSON object with \"layers\"") }
        try reader.allow(top, ["input", "layers"], at: "(top level)")
        self.file = file
        if let value = top["input"] {
            input = try reader.shape(value, at: "input")
        }
        guard let items = top["layers"]?.array, !items.isEmpty else { throw reader.fail("layers", "must be a non-empty array of layers") }
        layers = try items.enumerated().map { try reader.layer($1, at: "layers[\($0)]") }
    }
}

/// Strict reading of spec values, every failure naming the file and the key path.
struct SpecReader {
    let file: String

    func fail(_ key: String, _ message: String) -> ModelPressError {
        .invalidModel(
            file: file, location: key, message: message,
            hint:
                "see the student spec format in Sources/Training/README.md (layers: conv, depthwise_conv, separable_conv, batchnorm, activation, maxpool, avgpool, global_avgpool, global_maxpool, flatten, dense, dropout, zero_padding)"
        )
    }

    func allow(_ object: [String: JSONValue], _ keys: [String], at key: String) throws {
        for name in object.keys.sorted() where !keys.contains(name) {
            throw fail(key, "unknown key '\(name)' (allowed: \(keys.joined(separator: ", ")))")
        }
    }

    func positive(_ value: JSONValue?, at key: String, default fallback: Int? = nil, limit: Int = 1 << 16) throws -> Int {
        guard let value else {
            if let fallback { return fallback }
            throw fail(key, "is required (a positive integer)")
        }
        guard let n = value.int, n >= 1, n <= limit else { throw fail(key, "must be an integer in 1...\(limit), not \(render(value))") }
        return n
    }

    /// An int `k` (→ [k, k]) or a pair `[h, w]`.
    func pair(_ value: JSONValue?, at key: String, default fallback: Int, limit: Int = 1024) throws -> [Int] {
        guard let value else { return [fallback, fallback] }
        if value.int != nil { let k = try positive(value, at: key, limit: limit); return [k, k] }
        guard let a = value.array, a.count == 2 else { throw fail(key, "must be an integer or a pair [height, width], not \(render(value))") }
        return [try positive(a[0], at: "\(key)[0]", limit: limit), try positive(a[1], at: "\(key)[1]", limit: limit)]
    }

    func shape(_ value: JSONValue, at key: String) throws -> [Int] {
        guard let a = value.array, (1...3).contains(a.count) else {
            throw fail(key, "must be the per-sample shape, e.g. [64] or [8, 8, 1] (channels last), not \(render(value))")
        }
        return try a.enumerated().map { try positive($1, at: "\(key)[\($0)]", limit: 1 << 24) }
    }

    func padding(_ value: JSONValue?, at key: String, default fallback: StudentArchitecture.Padding) throws -> StudentArchitecture.Padding {
        guard let value else { return fallback }
        guard let s = value.string, let p = StudentArchitecture.Padding(rawValue: s) else { throw fail(key, "must be \"same\" or \"valid\", not \(render(value))") }
        return p
    }

    func activation(_ value: JSONValue?, at key: String) throws -> String {
        guard let value else { return "linear" }
        guard let s = value.string, StudentArchitecture.activationNames.contains(s) else {
            throw fail(key, "must be one of \(StudentArchitecture.activationNames.joined(separator: ", ")), not \(render(value))")
        }
        return s
    }

    func bool(_ value: JSONValue?, at key: String, default fallback: Bool) throws -> Bool {
        guard let value else { return fallback }
        guard let b = value.bool else { throw fail(key, "must be true or false, not \(render(value))") }
        return b
    }

    func number(_ value: JSONValue?, at key: String, default fallback: Float, in range: ClosedRange<Double>, open: Bool = false) throws -> Float {
        guard let value else { return fallback }
        guard let d = value.double, range.contains(d), !(open && d == range.upperBound) else {
            throw fail(key, "must be a number in \(range.lowerBound)...\(range.upperBound)\(open ? " (upper bound excluded)" : ""), not \(render(value))")
        }
        return Float(d)
    }

    func object(_ value: JSONValue, at key: String, _ keys: [String]) throws -> [String: JSONValue] {
        guard let o = value.object else { throw fail(key, "must be an object with keys from \(keys.joined(separator: ", ")), not \(render(value))") }
        try allow(o, keys, at: key)
        return o
    }

    func render(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let d): return d.rounded() == d && abs(d) < 1e15 ? "\(Int(d))" : "\(d)"
        case .string(let s): return "\"\(s)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// One `{"kind": value}` layer entry.
    func layer(_ entry: JSONValue, at key: String) throws -> StudentArchitecture.Layer {
        guard let o = entry.object, o.count == 1, let only = o.first else {
            throw fail(key, "must be an object with exactly one key, the layer kind, e.g. {\"dense\": {\"units\": 32}}")
        }
        let (kind, value) = (only.key, only.value)
        let at = "\(key).\(kind)"
        switch kind {
        case "conv", "depthwise_conv", "separable_conv":
            let convKind = StudentArchitecture.Convolution.Kind(rawValue: kind) ?? .conv
            var keys = ["kernel", "strides", "padding", "activation", "use_bias"]
            if convKind != .depthwise { keys.append("filters") }
            if convKind != .conv { keys.append("depth_multiplier") }
            let c = try object(value, at: at, keys)
            return .convolution(
                .init(
                    kind: convKind, filters: convKind == .depthwise ? 0 : try positive(c["filters"], at: "\(at).filters"),
                    kernel: try pair(c["kernel"], at: "\(at).kernel", default: 3),
                    strides: try pair(c["strides"], at: "\(at).strides", default: 1),
                    padding: try padding(c["padding"], at: "\(at).padding", default: .same),
                    depthMultiplier: try positive(c["depth_multiplier"], at: "\(at).depth_multiplier", default: 1, limit: 256),
                    activation: try activation(c["activation"], at: "\(at).activation"),
                    useBias: try bool(c["use_bias"], at: "\(at).use_bias", default: true)))
        case "batchnorm":
            let c = try object(value, at: at, ["epsilon", "momentum"])
            let epsilon = try number(c["epsilon"], at: "\(at).epsilon", default: 1e-3, in: 1e-12...1)
            guard epsilon > 0 else { throw fail("\(at).epsilon", "must be positive") }
            return .batchNormalization(epsilon: epsilon, momentum: try number(c["momentum"], at: "\(at).momentum", default: 0.99, in: 0...1, open: true))
        case "activation":
            return .activation(try activation(value, at: at))
        case "maxpool", "avgpool":
            if value.object == nil {
                let p = try pair(value, at: at, default: 2)
                return .pooling(.init(max: kind == "maxpool", pool: p, strides: p, padding: .valid))
            }
            let c = try object(value, at: at, ["pool", "strides", "padding"])
            let p = try pair(c["pool"], at: "\(at).pool", default: 2)
            let s = c["strides"] == nil ? p : try pair(c["strides"], at: "\(at).strides", default: 1)
            return .pooling(.init(max: kind == "maxpool", pool: p, strides: s, padding: try padding(c["padding"], at: "\(at).padding", default: .valid)))
        case "global_avgpool", "global_maxpool":
            _ = try object(value, at: at, [])
            return .globalPooling(max: kind == "global_maxpool")
        case "flatten":
            _ = try object(value, at: at, [])
            return .flatten
        case "dense":
            let c = try object(value, at: at, ["units", "activation", "use_bias"])
            return .dense(
                units: try positive(c["units"], at: "\(at).units"), activation: try activation(c["activation"], at: "\(at).activation"),
                useBias: try bool(c["use_bias"], at: "\(at).use_bias", default: true))
        case "dropout":
            let rate = value.object == nil ? value : try object(value, at: at, ["rate"])["rate"]
            guard let rate else { throw fail("\(at).rate", "is required (a number in [0, 1))") }
            return .dropout(try number(rate, at: value.object == nil ? at : "\(at).rate", default: 0, in: 0...1, open: true))
        case "zero_padding":
            if value.int != nil || value.array?.first?.int != nil {
                let p = try pair(value, at: at, default: 0)  // k → [k, k]; [rows, columns]
                return .zeroPadding([p[0], p[0], p[1], p[1]])
            }
            guard let a = value.array, a.count == 2, let h = a[0].array, let w = a[1].array, h.count == 2, w.count == 2 else {
                throw fail(at, "must be an integer, [rows, columns] or [[top, bottom], [left, right]], not \(render(value))")
            }
            return .zeroPadding(
                try (h + w).enumerated().map { i, v in
                    guard let n = v.int, n >= 0, n <= 1024 else { throw fail("\(at)[\(i / 2)][\(i % 2)]", "must be an integer in 0...1024, not \(render(v))") }
                    return n
                })
        default:
            throw fail(key, "unknown layer kind '\(kind)' (known: conv, depthwise_conv, separable_conv, batchnorm, activation, maxpool, avgpool, global_avgpool, global_maxpool, flatten, dense, dropout, zero_padding)")
        }
    }
}
