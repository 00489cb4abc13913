/// Static output shapes of IR ops (batch dimension `dynamicBatch` flows through), and numpy
/// broadcasting of shapes.
public enum ShapeInference {
    /// The output shapes of `op` applied to inputs of the given shapes (absent optional inputs
    /// left out); the error names `node`.
    public static func outputShapes(of op: Op, inputs: [[Int]], node: String) throws -> [[Int]] {
        let definition = op.definition
        let check = ShapeCheck(node: node, op: definition.name)
        guard definition.signature.accepts(inputs.count) else {
            throw check.fail("has \(inputs.count) inputs; \(definition.name) takes \(describe(definition.signature))")
        }
        return try definition.outputShapes(inputs, check)
    }

    /// The single output shape of `op` (the first, for multi-output ops).
    public static func outputShape(of op: Op, inputs: [[Int]], node: String) throws -> [Int] {
        try outputShapes(of: op, inputs: inputs, node: node)[0]
    }

    /// "2 (data, weight) or 3 (…, bias)" for error messages.
    static func describe(_ s: OpSignature) -> String {
        let roles = (s.required + s.optional).map(\.rawValue).joined(separator: ", ")
        if s.variadic { return "\(s.required.count) or more (\(roles))" }
        let counts = Array(s.required.count...(s.required.count + s.optional.count)).map(String.init).joined(separator: " to ")
        return "\(counts) (\(roles))"
    }

    /// Numpy broadcast of two shapes (`dynamicBatch` matches anything of its kind), or `nil`.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
        }
        return out
    }

    /// Whether `small` broadcasts to exactly `target`.
    public static func broadcastable(_ target: [Int], _ small: [Int]) -> Bool {
        broadcastShape(target, small) == target
    }
}
