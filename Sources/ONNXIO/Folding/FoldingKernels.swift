import TensorCore

/// Why a node cannot be folded; the importer names the node.
struct FoldingFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Reference kernels for constant folding: ONNX semantics on `KnownTensor`s, element by
/// element (import-time values are small). Entries that depend on the batch size (nil) flow
/// through data movement and make any arithmetic on them unknown.
enum FoldingKernels {
    /// The element count of `shape`, refused past `KnownTensor.maxElements`.
    static func count(_ shape: [Int]) throws -> Int {
        guard let n = Checked.product(shape), n <= KnownTensor.maxElements else {
            throw FoldingFailure("would build a tensor of shape \(shape), more than \(KnownTensor.maxElements) elements")
        }
        return n
    }

    /// Calls `body` with every multi-index of `shape` in row-major order (one index buffer, reused).
    static func eachIndex(_ shape: [Int], _ body: ([Int]) throws -> Void) rethrows {
        guard let total = Checked.product(shape), total > 0 else { return }
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<total {
            try body(index)
            var a = shape.count - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < shape[a] { break }
                index[a] = 0
                a -= 1
            }
        }
    }

    /// `axis` in `0..<rank` (negative counts from the end).
    static func axis(_ axis: Int, rank: Int) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else { throw FoldingFailure("axis \(axis) is out of range for rank \(rank)") }
        return a
    }

    /// Multidirectional (numpy) broadcast of `shapes`.
    static func broadcastShape(_ shapes: [[Int]]) throws -> [Int] {
        try shapes.reduce([Int]()) { shape, next in
            guard let b = ShapeInference.broadcastShape(shape, next) else { throw FoldingFailure("cannot broadcast shapes \(shapes)") }
            return b
        }
    }

    /// `f` applied elementwise to the broadcast `inputs`; nil where any operand is unknown.
    /// Integer results are truncated toward zero.
    static func map(_ inputs: [KnownTensor], integer: Bool, _ f: ([Double]) throws -> Double) throws -> KnownTensor {
        let shape = try broadcastShape(inputs.map(\.shape))
        var values = [Double?](repeating: nil, count: try count(shape))
        let strides = inputs.map { broadcastStrides($0.shape, to: shape) }
        var operands = [Double](repeating: 0, count: inputs.count)
        var i = 0
        try eachIndex(shape) { index in
            defer { i += 1 }
            for (k, t) in inputs.enumerated() {
                var offset = 0
                for a in index.indices { offset += index[a] * strides[k][a] }
                guard let v = t.values[offset] else { return }
                operands[k] = v
            }
            let r = try f(operands)
            values[i] = integer ? Double(KnownTensor.int64(r)) : r
        }
        return KnownTensor(isInteger: integer, shape: shape, values: values)
    }

    /// Elements of `x` picked by `source(outputIndex)` → input flat offset, for an output of `shape`.
    static func move(_ x: KnownTensor, to shape: [Int], _ source: ([Int]) throws -> Int) throws -> KnownTensor {
        var values: [Double?] = []
        values.reserveCapacity(try count(shape))
        try eachIndex(shape) { values.append(x.values[try source($0)]) }
        return KnownTensor(isInteger: x.isInteger, shape: shape, values: values)
    }

    /// Flat offset of `index` with `strides`.
    static func offset(_ index: [Int], _ strides: [Int]) -> Int {
        var o = 0
        for a in index.indices { o += index[a] * strides[a] }
        return o
    }

    /// ONNX `Gather` along `axis`: out = data.shape[..<axis] + indices.shape + data.shape[axis+1...].
    static func gather(_ data: KnownTensor, _ indices: KnownTensor, axis: Int) throws -> KnownTensor {
        let a = try self.axis(axis, rank: data.shape.count)
        let extent = data.shape[a]
        let picks = try indices.integers.map { i -> Int in
            guard let i, i >= -extent, i < extent else { throw FoldingFailure("gathers an index outside 0..<\(extent)") }
            return i < 0 ? i + extent : i
        }
        let shape = Array(data.shape[..<a]) + indices.shape + Array(data.shape[(a + 1)...])
        let strides = contiguousStrides(data.shape)
        let indexStrides = contiguousStrides(indices.shape)
        let q = indices.shape.count
        return try move(data, to: shape) { out in
            let pick = picks[offset(Array(out[a..<(a + q)]), indexStrides)]
            return offset(Array(out[..<a]) + [pick] + Array(out[(a + q)...]), strides)
        }
    }

    /// ONNX `GatherElements`: `out[i…] = data[i…]` with axis `axis`'s index taken from `indices[i…]`
    /// (`indices` and the output share a shape; the other axes no larger than `data`'s).
    static func gatherElements(_ data: KnownTensor, _ indices: KnownTensor, axis: Int) throws -> KnownTensor {
        let a = try self.axis(axis, rank: data.shape.count)
        guard indices.shape.count == data.shape.count, zip(indices.shape, data.shape).enumerated().allSatisfy({ $0.offset == a || $0.element.0 <= $0.element.1 }) else {
            throw FoldingFailure("gathers elements of \(data.shape) by indices of \(indices.shape)")
        }
        let extent = data.shape[a], strides = contiguousStrides(data.shape), indexStrides = contiguousStrides(indices.shape)
        let picks = indices.integers
        return try move(data, to: indices.shape) { out in
            guard let pick = picks[offset(out, indexStrides)], pick >= -extent, pick < extent else {
                throw FoldingFailure("gathers an element outside 0..<\(extent) (or one that depends on the batch size)")
            }
            var at = out
            at[a] = pick < 0 ? pick + extent : pick
            return offset(at, strides)
        }
    }

    /// ONNX `Slice` (any steps; starts and ends clamped as the operator defines).
    static func slice(_ x: KnownTensor, starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) throws -> KnownTensor {
        let rank = x.shape.count
        let axisList = try (axes ?? Array(0..<starts.count)).map { try axis($0, rank: rank) }
        let stepList = steps ?? [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axisList.count == starts.count, stepList.count == starts.count, Set(axisList).count == axisList.count else {
            throw FoldingFailure("has mismatched starts, ends, axes and steps")
        }
        var first = [Int](repeating: 0, count: rank), step = [Int](repeating: 1, count: rank), shape = x.shape
        for (k, a) in axisList.enumerated() {
            let d = x.shape[a], s = stepList[k]
            guard s != 0 else { throw FoldingFailure("has a step of 0") }
            func wrap(_ v: Int) -> Int { v < 0 ? (v == .min ? .min : v + d) : v }
            let (b, e) = s > 0 ? (min(max(wrap(starts[k]), 0), d), min(max(wrap(ends[k]), 0), d)) : (min(max(wrap(starts[k]), 0), d - 1), min(max(wrap(ends[k]), -1), d - 1))
            first[a] = b
            step[a] = s
            shape[a] = s > 0 ? max(0, (e - b + s - 1) / s) : max(0, (b - e - s - 1) / -s)
        }
        let strides = contiguousStrides(x.shape)
        return try move(x, to: shape) { out in
            var o = 0
            for a in out.indices { o += (first[a] + out[a] * step[a]) * strides[a] }
            return o
        }
    }

    /// ONNX `Concat` along `axis`.
    static func concat(_ parts: [KnownTensor], axis: Int) throws -> KnownTensor {
        guard let head = parts.first else { throw FoldingFailure("has no inputs") }
        let a = try self.axis(axis, rank: head.shape.count)
        for p in parts where p.shape.count != head.shape.count || p.shape.indices.contains(where: { $0 != a && p.shape[$0] != head.shape[$0] }) {
            throw FoldingFailure("concatenates shapes \(parts.map(\.shape)) along axis \(axis)")
        }
        var shape = head.shape
        shape[a] = parts.reduce(0) { $0 + $1.shape[a] }
        let outer = Checked.product(head.shape[..<a]) ?? 0
        var values: [Double?] = []
        values.reserveCapacity(try count(shape))
        for o in 0..<outer {
            for p in parts {
                let block = Checked.product(p.shape[a...]) ?? 0
                values += p.values[(o * block)..<((o + 1) * block)]
            }
        }
        return KnownTensor(isInteger: parts.contains { !$0.isInteger } ? false : true, shape: shape, values: values)
    }

    /// ONNX `Transpose` by `perm` (reversed axes when nil).
    static func transpose(_ x: KnownTensor, perm: [Int]?) throws -> KnownTensor {
        let p = perm ?? Array(x.shape.indices.reversed())
        guard p.sorted() == Array(x.shape.indices) else { throw FoldingFailure("has permutation \(p) for rank \(x.shape.count)") }
        let strides = contiguousStrides(x.shape)
        return try move(x, to: p.map { x.shape[$0] }) { out in
            var o = 0
            for k in out.indices { o += out[k] * strides[p[k]] }
            return o
        }
    }

    /// ONNX `Expand` (bidirectional broadcast to `target`).
    static func expand(_ x: KnownTensor, to target: [Int]) throws -> KnownTensor {
        let shape = try broadcastShape([x.shape, target])
        return try map([x, KnownTensor(isInteger: x.isInteger, shape: shape, values: [Double?](repeating: 0, count: try count(shape)))], integer: x.isInteger) { $0[0] }
    }

    /// ONNX `Tile` by `repeats`.
    static func tile(_ x: KnownTensor, repeats: [Int]) throws -> KnownTensor {
        guard repeats.count == x.shape.count, repeats.allSatisfy({ $0 >= 0 }) else { throw FoldingFailure("has repeats \(repeats) for shape \(x.shape)") }
        let shape = try zip(x.shape, repeats).map { d, r -> Int in
            guard let n = Checked.multiply(d, r) else { throw FoldingFailure("tiles past the size limit") }
            return n
        }
        let strides = contiguousStrides(x.shape)
        return try move(x, to: shape) { out in
            var o = 0
            for a in out.indices { o += (out[a] % x.shape[a]) * strides[a] }
            return o
        }
    }

    /// ONNX `Range(start, limit, delta)`.
    static func range(start: Double, limit: Double, delta: Double, integer: Bool) throws -> KnownTensor {
        guard delta != 0, start.isFinite, limit.isFinite, delta.isFinite else { throw FoldingFailure("has a zero or non-finite delta") }
        let n = max(0, Int(((limit - start) / delta).rounded(.up)))
        _ = try count([n])
        return KnownTensor(isInteger: integer, shape: [n], values: (0..<n).map { start + Double($0) * delta })
    }

    /// A reduction over `axes` (all axes when empty), keeping reduced axes as 1 when `keepDims`.
    static func reduce(_ x: KnownTensor, axes: [Int], keepDims: Bool, _ combine: ([Double]) -> Double) throws -> KnownTensor {
        let rank = x.shape.count
        let reduced = Set(try (axes.isEmpty ? Array(0..<rank) : axes).map { try axis($0, rank: rank) })
        let kept = x.shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        var groups = [[Double?]](repeating: [], count: try count(kept))
        let keptStrides = contiguousStrides(kept)
        var i = 0
        eachIndex(x.shape) { index in
            var o = 0
            for a in index.indices where !reduced.contains(a) { o += index[a] * keptStrides[a] }
            groups[o].append(x.values[i])
            i += 1
        }
        let values = groups.map { g -> Double? in g.contains(nil) ? nil : combine(g.map { $0! }) }
        let shape = keepDims ? kept : x.shape.indices.filter { !reduced.contains($0) }.map { x.shape[$0] }
        return KnownTensor(isInteger: x.isInteger, shape: shape, values: values.map { v in v.map { x.isInteger ? Double(KnownTensor.int64($0)) : $0 } })
    }

    /// The target of ONNX `Reshape` (`0` copies unless `allowZero`, one `-1` inferred).
    static func reshapeTarget(_ x: [Int], _ spec: [Int], allowZero: Bool) throws -> [Int] {
        var shape = try spec.enumerated().map { a, d -> Int in
            guard d == 0, !allowZero else { return d }
            guard a < x.count else { throw FoldingFailure("copies axis \(a), which \(x) does not have") }
            return x[a]
        }
        let total = try count(x)
        let unknown = shape.indices.filter { shape[$0] == -1 }
        guard unknown.count <= 1, shape.allSatisfy({ $0 >= -1 }) else { throw FoldingFailure("cannot reshape \(x) to \(spec)") }
        if let u = unknown.first {
            let known = Checked.product(shape.enumerated().filter { $0.offset != u }.map(\.element)) ?? 0
            guard known > 0, total % known == 0 else { throw FoldingFailure("cannot reshape \(x) to \(spec)") }
            shape[u] = total / known
        }
        guard Checked.product(shape) == total else { throw FoldingFailure("cannot reshape \(x) to \(spec)") }
        return shape
    }
}
