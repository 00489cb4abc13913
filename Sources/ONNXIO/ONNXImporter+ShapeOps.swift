import ONNXProto
import TensorCore

/// ONNX node → IR node: layout operators with static shapes (the batch axis must stay put).
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

    /// The constant shape input of Reshape; a batch size computed by shape arithmetic reads as 0 (copy).
    private func reshapeSpec(_ node: Onnx_NodeProto) throws -> [Int]? {
        guard node.input.count > 1, let tracked = shapeValues[node.input[1]] else { return try integers(node, 1, what: "shape") }
        return try tracked.values.enumerated().map { axis, value in
            guard let value else {
                guard axis == 0, node.int("allowzero", default: 0) == 0 else { throw fail(node, "uses the batch size on axis \(axis)") }
                return 0
            }
            return value
        }
    }

    /// The full target shape of Reshape (`0` copies, one `-1` inferred, batch kept).
    private func reshapeTarget(_ node: Onnx_NodeProto, _ x: [Int], _ spec: [Int]) throws -> [Int] {
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

    /// Transpose that keeps the batch axis first.
    mutating func importTranspose(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let perm = node.ints("perm") ?? Array(x.indices.reversed())
        guard perm.first == 0, perm.sorted() == Array(x.indices) else { throw fail(node, "permutation \(perm) moves the batch axis") }
        try emit(node, i, .transpose(perm), [node.input[0]])
    }

    /// Concat along a non-batch axis.
    mutating func importConcat(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        var axis = node.int("axis", default: 0)
        if axis < 0 { axis += x.count }
        guard axis >= 1, axis < x.count else { throw fail(node, "concatenates along the batch axis (\(axis))") }
        guard node.input.contains(where: { constants[$0] == nil }) else { throw fail(node, "concatenates constants only") }
        try emit(node, i, .concat(axis: axis), node.input)
    }

    /// Constant-mode Pad with value 0 and non-negative pads off the batch axis.
    mutating func importPad(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let r = x.count
        guard node.string("mode", default: "constant") == "constant" else { throw fail(node, "uses a non-constant mode; only zero padding is supported") }
        var pads: [Int]
        if opset >= 11 {
            guard let p = try integers(node, 1, what: "pads") else { throw fail(node, "has no pads input") }
            guard (try scalar(node, 2, what: "constant_value") ?? 0) == 0 else { throw fail(node, "pads with a non-zero value") }
            pads = p
            if let axes = try integers(node, 3, what: "axes") {
                guard pads.count == 2 * axes.count else { throw fail(node, "pads \(p) do not match axes \(axes)") }
                pads = [Int](repeating: 0, count: 2 * r)
                for (k, a0) in axes.enumerated() {
                    let a = a0 < 0 ? a0 + r : a0
                    guard a >= 0, a < r else { throw fail(node, "axis \(a0) is out of range") }
                    pads[a] = p[k]
                    pads[a + r] = p[k + axes.count]
                }
            }
        } else {
            pads = node.ints("pads") ?? []
            guard node.float("value", default: 0) == 0 else { throw fail(node, "pads with a non-zero value") }
        }
        guard pads.count == 2 * r, pads.allSatisfy({ $0 >= 0 && $0 <= Self.maxExtent }), pads[0] == 0, pads[r] == 0 else {
            throw fail(node, "pads \(pads) are negative, or pad the batch axis, or do not fit \(x)")
        }
        try emit(node, i, .pad(pads), [node.input[0]])
    }

    /// Slice with constant starts/ends/axes and unit steps, not on the batch axis.
    mutating func importSlice(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let r = x.count
        let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if opset >= 10 {
            guard let s = try integers(node, 1, what: "starts"), let e = try integers(node, 2, what: "ends") else { throw fail(node, "has no starts/ends") }
            (starts, ends) = (s, e)
            axes = try integers(node, 3, what: "axes")
            steps = try integers(node, 4, what: "steps")
        } else {
            (starts, ends, axes, steps) = (node.ints("starts") ?? [], node.ints("ends") ?? [], node.ints("axes"), nil)
        }
        let axisList = axes ?? Array(0..<starts.count)
        guard starts.count == ends.count, axisList.count == starts.count, (steps ?? []).allSatisfy({ $0 == 1 }) else {
            throw fail(node, "has mismatched starts/ends/axes or steps other than 1")
        }
        var begin = [Int](repeating: 0, count: r), end = x
        for (k, a0) in axisList.enumerated() {
            let a = a0 < 0 ? a0 + r : a0
            guard a >= 1, a < r else { throw fail(node, "slices axis \(a0), the batch axis or out of range") }
            func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + x[a] : v, 0), x[a]) }
            (begin[a], end[a]) = (clamp(starts[k]), clamp(ends[k]))
        }
        end[0] = dynamicBatch
        try emit(node, i, .slice(begin: begin, end: end), [node.input[0]])
    }

    /// Resize / Upsample in nearest mode by integer factors, with a coordinate rule that
    /// reproduces `out[i] = x[i / s]`.
    mutating func importResize(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        guard node.string("mode", default: "nearest") == "nearest" else { throw fail(node, "is not nearest-neighbour; only nearest upsampling is supported") }
        var factors: [Float]
        if node.opType == "Upsample" {
            factors = opset >= 9 ? (try constantInput(node, 1, what: "scales")).tensor.storage : (node.attribute("scales")?.floats ?? [])
        } else if let sizes = try integers(node, 3, what: "sizes") {
            guard sizes.count == x.count else { throw fail(node, "sizes \(sizes) do not match \(x)") }
            factors = (0..<x.count).map { $0 == 0 ? 1 : Float(sizes[$0]) / Float(x[$0]) }
        } else {
            factors = (try constantInput(node, opset >= 11 ? 2 : 1, what: "scales")).tensor.storage
        }
        guard factors.allSatisfy({ $0.isFinite && $0 >= 1 && $0 <= 1024 }) else {
            throw fail(node, "scales \(factors) are not factors from 1 to 1024")
        }
        let scales = factors.map { Int($0.rounded()) }
        guard scales.count == x.count, zip(factors, scales).allSatisfy({ Float($1) == $0 && $1 >= 1 }), scales[0] == 1 else {
            throw fail(node, "scales \(factors) are not integer factors ≥ 1 off the batch axis")
        }
        if node.opType == "Resize" {
            let mode = node.string("coordinate_transformation_mode", default: "half_pixel")
            let rounding = node.string("nearest_mode", default: "round_prefer_floor")
            let exact = (mode == "asymmetric" && rounding == "floor")
                || (["half_pixel", "pytorch_half_pixel"].contains(mode) && rounding.hasPrefix("round_prefer"))
            guard exact else { throw fail(node, "coordinate_transformation_mode '\(mode)' with nearest_mode '\(rounding)' does not repeat pixels") }
        }
        try emit(node, i, .upsampleNearest(scales), [node.input[0]])
    }
}
