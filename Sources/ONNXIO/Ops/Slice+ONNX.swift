import ONNXProto
import TensorCore

extension Slice: ONNXLowering {
    /// `Slice` with int64 `starts`, `ends`, `axes` over the cropped non-batch axes.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        let x = b.shape(of: node.inputs[0]) ?? []
        var axes = (1..<max(1, x.count)).filter { begin[$0] != 0 || end[$0] != x[$0] }
        if axes.isEmpty { axes = Array(1..<max(1, x.count)) }
        let starts = b.int64s(node.name + "/starts", axes.map { begin[$0] })
        let ends = b.int64s(node.name + "/ends", axes.map { end[$0] })
        let axesName = b.int64s(node.name + "/axes", axes)
        b.single(node, "Slice", inputs: [node.inputs[0], starts, ends, axesName])
    }
    var lowersOnIntegers: Bool { false }
}

// Import: Slice with constant starts/ends/axes/steps 1
extension ONNXImportContext {
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
        if let steps, steps == [-1], axisList.count == 1, starts.count == 1, ends.count == 1 {
            // The whole axis backwards (start at or past its end, end before its beginning): a reversal.
            let a = axisList[0] < 0 ? axisList[0] + r : axisList[0]
            guard a >= 1, a < r, starts[0] == -1 || starts[0] >= x[a] - 1, ends[0] < -x[a] else {
                throw fail(node, "steps backwards over part of an axis; ModelPress reverses whole axes only")
            }
            return try emit(node, i, .reverse(Reverse(axis: a)), [node.input[0]])
        }
        guard starts.count == ends.count, axisList.count == starts.count, (steps ?? []).allSatisfy({ $0 == 1 }) else {
            throw fail(node, "has mismatched starts/ends/axes or steps other than 1")
        }
        var begin = [Int](repeating: 0, count: r), end = x
        for (k, a0) in axisList.enumerated() {
            let a = a0 < 0 ? a0 + r : a0
            // tf2onnx writes the whole batch axis as [0, INT32_MAX): nothing to crop.
            if a == 0, starts[k] == 0 || starts[k] <= -Int(Int32.max), ends[k] >= Int(Int32.max) { continue }
            guard a >= 1, a < r else { throw fail(node, "slices axis \(a0), the batch axis or out of range") }
            func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + x[a] : v, 0), x[a]) }
            (begin[a], end[a]) = (clamp(starts[k]), clamp(ends[k]))
        }
        end[0] = dynamicBatch
        try emit(node, i, .slice(begin: begin, end: end), [node.input[0]])
    }
}
