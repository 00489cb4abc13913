/// Static output shapes of IR ops (batch dimension `dynamicBatch` flows through).
public enum ShapeInference {
    /// The output shape of `op` applied to inputs of the given shapes (`nil`: absent optional input).
    public static func outputShape(of op: Op, inputs: [[Int]?], node: String) throws -> [Int] {
        func fail(_ message: String) -> ModelPressError {
            .invalidModel(file: "", location: "node '\(node)' (\(op.name))", message: message,
                          hint: "the layer configuration and its input shapes do not fit together")
        }
        func input(_ i: Int) throws -> [Int] {
            guard i < inputs.count, let s = inputs[i] else { throw fail("missing input \(i)") }
            return s
        }
        switch op {
        case .conv2D(let a):
            let x = try input(0), w = try input(1)
            guard x.count == 4, w.count == 4 else { throw fail("expects 4-D input and weights, got \(x) and \(w)") }
            guard a.group >= 1, x[1] % a.group == 0, w[0] % a.group == 0, w[1] * a.group == x[1] else {
                throw fail("weights \(w) with group \(a.group) do not fit input channels \(x[1])")
            }
            guard w[2] == a.kernel[0], w[3] == a.kernel[1] else { throw fail("weights \(w) do not match kernel \(a.kernel)") }
            if inputs.count > 2, let b = inputs[2], b != [w[0]] { throw fail("bias \(b) does not match \(w[0]) filters") }
            let oh = try spatial(x[2], a.kernel[0], a.strides[0], a.dilations[0], a.pads[0] + a.pads[2], fail)
            let ow = try spatial(x[3], a.kernel[1], a.strides[1], a.dilations[1], a.pads[1] + a.pads[3], fail)
            return [x[0], w[0], oh, ow]
        case .linear:
            let x = try input(0), w = try input(1)
            guard x.count >= 2, w.count == 2, x[x.count - 1] == w[0] else { throw fail("cannot multiply \(x) by weights \(w)") }
            if inputs.count > 2, let b = inputs[2], b != [w[1]] { throw fail("bias \(b) does not match \(w[1]) units") }
            return Array(x.dropLast()) + [w[1]]
        case .batchNormalization:
            let x = try input(0)
            guard x.count >= 2 else { throw fail("expects a channel axis, got \(x)") }
            for i in 1..<5 where try input(i) != [x[1]] { throw fail("parameter \(i) has shape \(try input(i)), expected [\(x[1])]") }
            return x
        case .activation, .identity:
            return try input(0)
        case .prelu:
            let x = try input(0), slope = try input(1)
            guard slope.count < x.count, broadcastable(Array(x.dropFirst()), slope) else { throw fail("slope \(slope) does not broadcast to \(x)") }
            return x
        case .softmax(let axis):
            let x = try input(0)
            guard axis >= 1, axis < x.count else { throw fail("axis \(axis) out of range for \(x)") }
            return x
        case .maxPool2D(let a), .averagePool2D(let a):
            let x = try input(0)
            guard x.count == 4 else { throw fail("expects 4-D input, got \(x)") }
            guard a.pads.count == 4, a.kernel.count == 2, (0..<4).allSatisfy({ a.pads[$0] < a.kernel[$0 % 2] }) else {
                throw fail("padding \(a.pads) must be smaller than the window \(a.kernel) on every side")
            }
            let oh = try spatial(x[2], a.kernel[0], a.strides[0], 1, a.pads[0] + a.pads[2], fail)
            let ow = try spatial(x[3], a.kernel[1], a.strides[1], 1, a.pads[1] + a.pads[3], fail)
            return [x[0], x[1], oh, ow]
        case .globalAveragePool, .globalMaxPool:
            let x = try input(0)
            guard x.count == 4 else { throw fail("expects 4-D input, got \(x)") }
            return [x[0], x[1], 1, 1]
        case .flatten:
            let x = try input(0)
            guard let n = Checked.product(x.dropFirst()) else { throw fail("shape \(x) overflows") }
            return [x[0], n]
        case .reshape(let target):
            let x = try input(0)
            guard let n = Checked.product(x.dropFirst()), let m = Checked.product(target), n == m else {
                throw fail("cannot reshape \(x) to [batch] + \(target)")
            }
            return [x[0]] + target
        case .transpose(let perm):
            let x = try input(0)
            guard perm.sorted() == Array(0..<x.count), perm[0] == 0 else { throw fail("invalid permutation \(perm) for \(x)") }
            return perm.map { x[$0] }
        case .elementwise(let kind):
            guard !inputs.isEmpty else { throw fail("needs inputs") }
            if (kind == .subtract || kind == .divide) && inputs.count != 2 { throw fail("takes exactly two inputs") }
            var shape = try input(0)
            for i in 1..<inputs.count {
                guard let s = broadcastShape(shape, try input(i)) else { throw fail("shapes \(shape) and \(try input(i)) do not broadcast") }
                shape = s
            }
            return shape
        case .concat(let axis):
            var shape = try input(0)
            guard axis >= 1, axis < shape.count else { throw fail("axis \(axis) out of range for \(shape)") }
            for i in 1..<inputs.count {
                let s = try input(i)
                guard s.count == shape.count, (0..<s.count).allSatisfy({ $0 == axis || s[$0] == shape[$0] }) else {
                    throw fail("cannot concatenate \(shape) and \(s) along axis \(axis)")
                }
                shape[axis] += s[axis]
            }
            return shape
        case .pad(let pads):
            let x = try input(0)
            guard pads.count == 2 * x.count, pads.allSatisfy({ $0 >= 0 }), pads[0] == 0, pads[x.count] == 0 else {
                throw fail("invalid pads \(pads) for \(x)")
            }
            return (0..<x.count).map { $0 == 0 ? x[0] : x[$0] + pads[$0] + pads[$0 + x.count] }
        case .slice(let begin, let end):
            let x = try input(0)
            guard begin.count == x.count, end.count == x.count else { throw fail("slice rank does not match \(x)") }
            return try (0..<x.count).map { i in
                if i == 0 { return x[0] }
                guard begin[i] >= 0, end[i] <= x[i], begin[i] < end[i] else { throw fail("slice [\(begin), \(end)) empty or outside \(x)") }
                return end[i] - begin[i]
            }
        case .upsampleNearest(let scales):
            let x = try input(0)
            guard scales.count == x.count, scales.allSatisfy({ $0 >= 1 }), scales[0] == 1 else { throw fail("invalid scales \(scales) for \(x)") }
            return try (0..<x.count).map { i in
                if i == 0 { return x[0] }
                guard let v = Checked.multiply(x[i], scales[i]) else { throw fail("upsampled shape overflows") }
                return v
            }
        }
    }

    /// Output length of a convolution/pooling window sweep along one axis.
    static func spatial(_ size: Int, _ kernel: Int, _ stride: Int, _ dilation: Int, _ pad: Int,
                        _ fail: (String) -> ModelPressError) throws -> Int {
        guard kernel >= 1, stride >= 1, dilation >= 1, pad >= 0 else { throw fail("invalid kernel/stride/dilation/padding") }
        let effective = (kernel - 1) * dilation + 1
        guard size + pad >= effective else { throw fail("window \(effective) larger than padded input \(size + pad)") }
        return (size + pad - effective) / stride + 1
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
