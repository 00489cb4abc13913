import ONNXProto
import TensorCore

extension Pad: ONNXLowering {
    /// `Pad` with int64 `pads` as an input (opset 11+).
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        let padsName = b.int64s(node.name + "/pads", pads)
        b.single(node, "Pad", inputs: [node.inputs[0], padsName])
    }
    var lowersOnIntegers: Bool { false }
}

// Import: Pad (constant mode, zero value)
extension ONNXImportContext {
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
}
