import ONNXProto
import TensorCore

extension Flatten: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "Flatten", [.int("axis", 1)]) }
    var lowersOnIntegers: Bool { true }
}

extension Reshape: ONNXLowering {
    /// `Reshape` to `[-1] + shape` (the batch stays symbolic).
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        let shapeName = b.int64s(node.name + "/shape", [-1] + shape)
        b.single(node, "Reshape", inputs: [node.inputs[0], shapeName])
    }
    var lowersOnIntegers: Bool { true }
}

extension Transpose: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "Transpose", [.ints("perm", perm)]) }
    var lowersOnIntegers: Bool { true }
}

extension Identity: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "Identity") }
    var lowersOnIntegers: Bool { true }
}

// Import: Flatten
extension ONNXImportContext {
    /// Flatten at axis 1 (or a later axis when the axes before it, batch excepted, are all 1).
    mutating func importFlatten(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        var axis = node.int("axis", default: 1)
        if axis < 0 { axis += x.count }
        guard axis >= 1, axis <= x.count, x[1..<axis].allSatisfy({ $0 == 1 }) else {
            throw fail(node, "flattens across the batch axis (axis \(axis) of \(x))")
        }
        if axis == 1 {
            try emit(node, i, .flatten, [node.input[0]])
        } else {
            guard let n = Checked.product(x[axis...]) else { throw fail(node, "shape \(x) overflows") }
            try emit(node, i, .reshape([n]), [node.input[0]])
        }
    }
}

// Import: Reshape, Squeeze, Unsqueeze with static shapes
extension ONNXImportContext {
    /// Reshape with a constant shape, Squeeze and Unsqueeze: a row-major reshape keeping the batch.
    mutating func importReshape(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let target: [Int]
        switch node.opType {
        case "Reshape":
            guard let spec = try reshapeSpec(node) else { throw fail(node, "has no shape input") }
            target = try reshapeTarget(node, x, spec)
        case "Squeeze":
            let axes = try (opset >= 13 ? integers(node, 1, what: "axes") : node.ints("axes")) ?? x.indices.filter { $0 > 0 && x[$0] == 1 }
            let normal = Set(axes.map { $0 < 0 ? $0 + x.count : $0 })
            guard !normal.contains(0), normal.allSatisfy({ $0 > 0 && $0 < x.count && x[$0] == 1 }) else {
                throw fail(node, "squeezes axes \(axes) of \(x); only size-1 non-batch axes can be squeezed")
            }
            target = x.indices.filter { !normal.contains($0) }.map { x[$0] }
        default:
            guard let axes = try (opset >= 13 ? integers(node, 1, what: "axes") : node.ints("axes")) else { throw fail(node, "has no axes") }
            let rank = x.count + axes.count
            let normal = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
            guard !normal.contains(0), normal.allSatisfy({ $0 > 0 && $0 < rank }), normal.count == axes.count else {
                throw fail(node, "inserts axes \(axes) at the batch axis or out of range")
            }
            var rest = x[...]
            target = (0..<rank).map { a in
                if normal.contains(a) { return 1 }
                return rest.popFirst() ?? 1
            }
        }
        try emit(node, i, .reshape(Array(target.dropFirst())), [node.input[0]])
    }

    /// The constant shape input of Reshape; a batch size computed by folding reads as 0 (copy).
    func reshapeSpec(_ node: Onnx_NodeProto) throws -> [Int]? {
        guard node.input.count > 1, let tracked = partial[node.input[1]] else { return try integers(node, 1, what: "shape") }
        return try tracked.integers.enumerated().map { axis, value in
            guard let value else {
                guard axis == 0, node.int("allowzero", default: 0) == 0 else { throw fail(node, "uses the batch size on axis \(axis)") }
                return 0
            }
            return value
        }
    }

    /// The full target shape of Reshape (`0` copies, one `-1` inferred, batch kept).
    func reshapeTarget(_ node: Onnx_NodeProto, _ x: [Int], _ spec: [Int]) throws -> [Int] {
        let allowZero = node.int("allowzero", default: 0) != 0
        guard let first = spec.first, first == -1 || (first == 0 && !allowZero) else {
            throw fail(node, "reshapes to \(spec), which changes the batch axis; its first entry must be -1 or 0")
        }
        guard let perSample = Checked.product(x.dropFirst()) else { throw fail(node, "shape \(x) overflows") }
        var rest = Array(spec.dropFirst())
        for a in rest.indices where rest[a] == 0 && !allowZero {
            guard a + 1 < x.count else { throw fail(node, "copies axis \(a + 1), which the input \(x) does not have") }
            rest[a] = x[a + 1]
        }
        let unknown = rest.indices.filter { rest[$0] == -1 }
        guard unknown.isEmpty || (first == 0 && unknown.count == 1) else { throw fail(node, "has more than one -1 in \(spec)") }
        if let u = unknown.first {
            let known = rest.indices.filter { $0 != u }.map { rest[$0] }
            guard let k = Checked.product(known), k > 0, perSample % k == 0 else { throw fail(node, "cannot reshape \(x) to \(spec)") }
            rest[u] = perSample / k
        }
        guard rest.allSatisfy({ $0 >= 0 }), Checked.product(rest) == perSample else { throw fail(node, "cannot reshape \(x) to \(spec)") }
        return [dynamicBatch] + rest
    }
}

// Import: Transpose
extension ONNXImportContext {
    /// Transpose that keeps the batch axis first.
    mutating func importTranspose(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let perm = node.ints("perm") ?? Array(x.indices.reversed())
        guard perm.first == 0, perm.sorted() == Array(x.indices) else { throw fail(node, "permutation \(perm) moves the batch axis") }
        try emit(node, i, .transpose(perm), [node.input[0]])
    }
}
