import TensorCore

/// The precision one Conv / Dense layer runs in under a mixed plan. The searches promote
/// int8 → fp16 → fp32; int16 is for given plans.
public enum LayerPrecision: String, Sendable, CaseIterable, Codable, Comparable {
    /// int8 weights and quantized activations (static, calibrated).
    case int8
    /// int16 weights and activations (static, calibrated; opset 21): given plans only.
    case int16
    /// float16 weights and computation.
    case fp16
    /// float32.
    case fp32

    /// The next, more precise precision (nil for fp32): the search's promotion step.
    public var promoted: LayerPrecision? {
        switch self {
        case .int8, .int16: .fp16
        case .fp16: .fp32
        case .fp32: nil
        }
    }

    /// int8 < int16 < fp16 < fp32.
    public static func < (a: LayerPrecision, b: LayerPrecision) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A precision per Conv / Dense layer (by IR node name); the nodes between them follow their
/// inputs (float16 where every input is float16).
public struct PrecisionPlan: Sendable, Equatable, Hashable {
    /// Precision of each candidate layer, by node name.
    public var layers: [String: LayerPrecision]

    /// A plan with the given precisions.
    public init(_ layers: [String: LayerPrecision]) {
        self.layers = layers
    }

    /// Every one of `nodes` at `precision`.
    public static func uniform(_ nodes: [String], _ precision: LayerPrecision) -> PrecisionPlan {
        PrecisionPlan(Dictionary(uniqueKeysWithValues: nodes.map { ($0, precision) }))
    }

    /// This plan with `node` at `precision`.
    public func with(_ node: String, _ precision: LayerPrecision) -> PrecisionPlan {
        var copy = self
        copy.layers[node] = precision
        return copy
    }

    /// Layers at each precision, for reports: `int8: 2, fp16: 1`.
    public var counts: String {
        LayerPrecision.allCases.compactMap { p in
            let n = layers.values.filter { $0 == p }.count
            return n == 0 ? nil : "\(p.rawValue): \(n)"
        }.joined(separator: ", ")
    }

    /// Parses `conv_1=fp16,dense=int8` (layer or node names) against `candidates` (node → layer),
    /// every other candidate at `rest`; fails naming an unknown layer or precision.
    public static func parse(_ text: String, candidates: [(node: String, layer: String)], rest: LayerPrecision) throws -> PrecisionPlan {
        var plan = uniform(candidates.map(\.node), rest)
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let precision = LayerPrecision(rawValue: parts[1]) else {
                throw ModelPressError.invalidArgument(
                    "--precision-per-layer \(entry): expected LAYER=PRECISION with PRECISION one of \(LayerPrecision.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            let matches = candidates.filter { $0.node == parts[0] || $0.layer == parts[0] }
            guard !matches.isEmpty else {
                throw ModelPressError.invalidArgument(
                    "--precision-per-layer \(entry): the model has no Conv or Dense layer '\(parts[0])' (they are: \(candidates.map(\.layer).joined(separator: ", "))).")
            }
            for match in matches { plan.layers[match.node] = precision }
        }
        return plan
    }
}
