import ONNXProto
import TensorCore

/// Multi-node ONNX patterns that become one IR node: the exporter's own lowerings (so that
/// export → import → export gives the same bytes) and the same forms in other producers'
/// files (tf2onnx's MatMul + Add, PyTorch's erf GELU and LayerNormalization below opset 17).
/// A pattern is anchored at its last node; every node inside it must be read only by the
/// pattern. Patterns whose IR node needs shapes are completed by `resolvedFused` when emitted.
extension ONNXImportContext {
    /// Finds patterns from the last node backwards, recording anchors and absorbed nodes.
    mutating func findPatterns() {
        for i in onnx.node.indices.reversed() where !absorbed.contains(i) {
            let node = onnx.node[i]
            guard node.output.count == 1, node.domain.isEmpty else { continue }
            let match: (Op, [String], [Int])?
            switch node.opType {
            case "Add": match = matchLinear(node) ?? matchLayerNormalization(node)
            case "Mul": match = matchGelu(node) ?? matchGeluTanh(node) ?? matchSwish(node) ?? matchHardSwish(node) ?? matchLayerNormalization(node)
            case "Where": match = matchThresholdedLinear(node)
            case "Cast", "ReduceMax": match = matchStepMask(node)
            default: match = nil
            }
            guard let (op, inputs, inner) = match else { continue }
            fused[i] = Node(name: nodeName(node, i), op: op, inputs: inputs, output: node.output[0], layer: layer(node))
            absorbed.formUnion(inner)
        }
    }

    /// The node producing `value` when the pattern may absorb it: produced by `opType`, read
    /// exactly once, not a graph output, not already absorbed.
    func inner(_ value: String, _ opType: String) -> (Int, Onnx_NodeProto)? {
        guard let p = producer[value], !absorbed.contains(p), onnx.node[p].opType == opType, onnx.node[p].domain.isEmpty,
            onnx.node[p].output.count == 1, readers[value]?.count == 1, !outputNames.contains(value)
        else { return nil }
        return (p, onnx.node[p])
    }

    /// A float scalar constant's value.
    func scalarConstant(_ name: String) -> Float? {
        guard let c = constants[name], c.tensor.count == 1 else { return nil }
        return c.tensor.storage[0]
    }

    /// For a binary node, the operand pair `(a, b)` in either order where `test(b)` holds.
    func operands(_ node: Onnx_NodeProto, where test: (String, String) -> Bool) -> (String, String)? {
        guard node.input.count == 2 else { return nil }
        let (a, b) = (node.input[0], node.input[1])
        if test(a, b) { return (a, b) }
        if test(b, a) { return (b, a) }
        return nil
    }

    /// `Add(MatMul(x, W), b)` with constant K×M `W` and M-vector `b` → Linear.
    private func matchLinear(_ add: Onnx_NodeProto) -> (Op, [String], [Int])? {
        for (product, bias) in [(0, 1), (1, 0)] where add.input.count == 2 {
            guard let (m, matmul) = inner(add.input[product], "MatMul"), matmul.input.count == 2,
                let w = constants[matmul.input[1]], w.shape.count == 2, constants[matmul.input[0]] == nil,
                let b = constants[add.input[bias]], b.shape == [w.shape[1]]
            else { continue }
            return (.linear, [matmul.input[0], matmul.input[1], add.input[bias]], [m])
        }
        return nil
    }

    /// `Mul(x, Sigmoid(x))` → swish.
    private func matchSwish(_ mul: Onnx_NodeProto) -> (Op, [String], [Int])? {
        var found: Int?
        guard
            let (x, _) = operands(
                mul,
                where: { x, s in
                    guard let (p, sig) = inner(s, "Sigmoid"), sig.input.first == x else { return false }
                    found = p
                    return true
                }), let p = found
        else { return nil }
        return (.activation(.swish), [x], [p])
    }

    /// `Mul(x, HardSigmoid(x; 1/6, 1/2))` → hard swish.
    private func matchHardSwish(_ mul: Onnx_NodeProto) -> (Op, [String], [Int])? {
        var found: Int?
        guard
            let (x, _) = operands(
                mul,
                where: { x, s in
                    guard let (p, hs) = inner(s, "HardSigmoid"), hs.input.first == x,
                        abs(hs.float("alpha", default: 0.2) - ONNXConstants.oneSixth) < 1e-7, hs.float("beta", default: 0.5) == 0.5
                    else { return false }
                    found = p
                    return true
                }), let p = found
        else { return nil }
        return (.activation(.hardSwish), [x], [p])
    }

    /// `Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)` → erf GELU.
    private func matchGelu(_ last: Onnx_NodeProto) -> (Op, [String], [Int])? {
        guard let (product, _) = operands(last, where: { _, c in scalarConstant(c) == 0.5 }),
            let (pm, mul) = inner(product, "Mul")
        else { return nil }
        var chain: [Int] = []
        guard
            let (x, _) = operands(
                mul,
                where: { x, sum in
                    guard let (pa, add) = inner(sum, "Add"),
                        let (e, _) = operands(add, where: { _, one in scalarConstant(one) == 1 }),
                        let (pe, erf) = inner(e, "Erf"), let (pd, div) = inner(erf.input.first ?? "", "Div"),
                        div.input.count == 2, div.input[0] == x,
                        let root = scalarConstant(div.input[1]), ONNXConstants.matches(root, ONNXConstants.sqrt2, within: 1e-6)
                    else { return false }
                    chain = [pa, pe, pd]
                    return true
                }), !chain.isEmpty
        else { return nil }
        return (.activation(.gelu(approximate: false)), [x], [pm] + chain)
    }

    /// The tanh GELU chain `lowerGeluTanh_13` writes → tanh GELU.
    private func matchGeluTanh(_ last: Onnx_NodeProto) -> (Op, [String], [Int])? {
        guard let (product, _) = operands(last, where: { _, c in scalarConstant(c) == 0.5 }),
            let (pm, mul) = inner(product, "Mul"), mul.input.count == 2
        else { return nil }
        let x = mul.input[0]
        guard let (pa, add) = inner(mul.input[1], "Add"), add.input.count == 2, scalarConstant(add.input[1]) == 1,
            let (pt, tanh) = inner(add.input[0], "Tanh"),
            let (ps, scaled) = inner(tanh.input.first ?? "", "Mul"), scaled.input.count == 2,
            let k = scalarConstant(scaled.input[1]), ONNXConstants.matches(k, ONNXConstants.sqrt2OverPi, within: 1e-6),
            let (pi, innerSum) = inner(scaled.input[0], "Add"), innerSum.input.count == 2, innerSum.input[0] == x,
            let (pc, cubic) = inner(innerSum.input[1], "Mul"), cubic.input.count == 2,
            let c = scalarConstant(cubic.input[1]), ONNXConstants.matches(c, ONNXConstants.geluCubic, within: 1e-7),
            let (p3, cube) = inner(cubic.input[0], "Mul"), cube.input.count == 2, cube.input[1] == x,
            let (p2, square) = inner(cube.input[0], "Mul"), square.input == [x, x]
        else { return nil }
        return (.activation(.gelu(approximate: true)), [x], [pm, pa, pt, ps, pi, pc, p3, p2])
    }

    /// `Where(x > t, Clip(x, 0, max) or Relu(x), Mul(Sub(x, t), slope))`
    /// → Keras ReLU(max_value, negative_slope, threshold).
    private func matchThresholdedLinear(_ node: Onnx_NodeProto) -> (Op, [String], [Int])? {
        guard node.input.count == 3, let (pg, gt) = inner(node.input[0], "Greater"), gt.input.count == 2,
            let x = gt.input.first, let t = scalarConstant(gt.input[1]),
            let (pm, mul) = inner(node.input[2], "Mul"), mul.input.count == 2, let slope = scalarConstant(mul.input[1]),
            let (ps, sub) = inner(mul.input[0], "Sub"), sub.input == [x, gt.input[1]]
        else { return nil }
        if let (pr, relu) = inner(node.input[1], "Relu"), relu.input == [x] {
            return (.activation(.thresholdedLinear(threshold: t, negativeSlope: slope, maxValue: nil)), [x], [pg, pm, ps, pr])
        }
        guard let (pc, clip) = inner(node.input[1], "Clip"), clip.input.count == 3, clip.input[0] == x,
            scalarConstant(clip.input[1]) == 0, let hi = scalarConstant(clip.input[2])
        else { return nil }
        return (.activation(.thresholdedLinear(threshold: t, negativeSlope: slope, maxValue: hi)), [x], [pg, pm, ps, pc])
    }
}
