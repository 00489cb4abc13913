import ONNXProto
import TensorCore

/// Rewrites the QOperator form into the QDQ form that `QDQFolding` reads:
/// - `QLinearConv(x, xs, xz, w, ws, wz, ys, yz, B)` becomes `DequantizeLinear` of x, w and B
///   (B's scale `xs·ws` added as an initializer), a float `Conv`, and `QuantizeLinear` to the
///   original output;
/// - an op reading an integer tensor (produced by QuantizeLinear, QLinearConv or such an op)
///   other than DequantizeLinear — MaxPool, Flatten, Reshape, Transpose… — is wrapped in
///   `DequantizeLinear → op → QuantizeLinear` with the input's parameters.
/// - QLinearMatMul and onnxruntime's QLinear* / QGemm (`QLinearOperator`) likewise become
///   `DequantizeLinear` of each operand (weights per column where their scales are), the float
///   op, and `QuantizeLinear` to the output (none where QGemm's output is float).
enum QOperatorExpansion {
    /// `onnx` with QLinearConv and integer-tensor ops expanded; unchanged when it has none
    /// (no QLinearConv, and every QuantizeLinear read by DequantizeLinear only: the QDQ form).
    static func expand(_ onnx: Onnx_GraphProto, file: String) throws -> Onnx_GraphProto {
        let quantized = Set(onnx.node.filter { $0.opType == "QuantizeLinear" }.compactMap(\.output.first))
        let movesIntegers = onnx.node.contains { n in n.opType != "DequantizeLinear" && n.input.contains(where: quantized.contains) }
        guard movesIntegers || onnx.node.contains(where: { $0.opType == "QLinearConv" || QLinearOperator(rawValue: $0.opType) != nil }) else { return onnx }
        var g = onnx
        var taken = Set(onnx.initializer.map(\.name) + onnx.input.map(\.name) + onnx.node.flatMap { $0.output + [$0.name] })
        func fresh(_ base: String) -> String {
            var name = base, i = 1
            while taken.contains(name) { name = "\(base)_\(i)"; i += 1 }
            taken.insert(name)
            return name
        }
        var initializers: [String: Onnx_TensorProto] = [:]
        for t in onnx.initializer { initializers[t.name] = t }
        func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
            var n = Onnx_NodeProto()
            n.opType = op
            n.name = output
            n.input = inputs
            n.output = [output]
            n.attribute = attributes
            return n
        }
        /// Integer tensor → its (scale, zero point) names.
        var integer: [String: (String, String)] = [:]
        var nodes: [Onnx_NodeProto] = []
        /// A `QLinearOperator` node: DequantizeLinear of each operand, the float op, QuantizeLinear of its output.
        func expand(_ original: Onnx_NodeProto, _ kind: QLinearOperator) throws {
            let fail = { (m: String) in
                ModelPressError.invalidModel(
                    file: file, location: "node '\(original.name)' (\(original.opType))", message: m,
                    hint: "import the float model and quantize it with `modelpress quantize`")
            }
            guard let out = original.output.first, let (operands, output) = kind.operands(original.input) else {
                throw fail("has \(original.input.count) inputs, which is not the operator's layout")
            }
            if original.int("channels_last", default: 0) != 0 { throw fail("is channels-last (channels_last=1), which ModelPress does not read") }
            if kind == .softmax, original.int("opset", default: 13) < 13, original.int("axis", default: -1) != -1 {
                throw fail("has the Softmax semantics of opset \(original.int("opset", default: 13)) on axis \(original.int("axis", default: -1)), which ModelPress does not read")
            }
            var floatInputs: [String] = []
            for (k, operand) in operands.enumerated() {
                var attributes: [Onnx_AttributeProto] = []
                if k == 1, let scale = initializers[operand.scale], scale.dims.count == 1, scale.dims[0] > 1 {
                    // Per-column weights: along B's last axis, or its first when QGemm transposes it.
                    attributes.append(ONNXAttribute.int("axis", kind == .gemm && original.int("transB", default: 0) != 0 ? 0 : -1))
                }
                let dq = fresh(out + "/input\(k)")
                nodes.append(node("DequantizeLinear", [operand.value, operand.scale] + (operand.zeroPoint.isEmpty ? [] : [operand.zeroPoint]), dq, attributes))
                floatInputs.append(dq)
            }
            if kind == .gemm, original.input.count > 6, !original.input[6].isEmpty {
                // C: int32 on the a_scale · b_scale grid (per column with per-column B).
                guard let a = initializers[original.input[1]], let b = initializers[original.input[4]] else { throw fail("needs constant scales") }
                let aScale = try ONNXTensor.floats(a, fail).storage.first ?? 1
                let bScales = try ONNXTensor.floats(b, fail)
                let biasScale = fresh(out + "/bias_scale")
                g.initializer.append(ONNXTensor.float(biasScale, try Tensor(shape: bScales.shape, storage: bScales.storage.map { aScale * $0 })))
                initializers[biasScale] = g.initializer.last
                let c = fresh(out + "/bias")
                nodes.append(node("DequantizeLinear", [original.input[6], biasScale], c, bScales.count > 1 ? [ONNXAttribute.int("axis", 0)] : []))
                floatInputs.append(c)
            }
            let y = output == nil ? out : fresh(out + "/float")
            var floatNode = node(kind.floatOp, floatInputs, y, original.attribute.filter { !QLinearOperator.quantizationAttributes.contains($0.name) })
            floatNode.name = original.name
            floatNode.docString = original.docString
            nodes.append(floatNode)
            if let output {
                nodes.append(node("QuantizeLinear", [y, output.scale] + (output.zeroPoint.isEmpty ? [] : [output.zeroPoint]), out))
                integer[out] = (output.scale, output.zeroPoint)
            }
        }
        for original in onnx.node {
            if let kind = QLinearOperator(rawValue: original.opType) {
                try expand(original, kind)
                continue
            }
            switch original.opType {
            case "QuantizeLinear":
                if let out = original.output.first, original.input.count >= 3 { integer[out] = (original.input[1], original.input[2]) }
                nodes.append(original)
            case "DequantizeLinear":
                nodes.append(original)
            case "QLinearConv":
                let i = original.input
                guard i.count >= 8, let out = original.output.first, let ws = initializers[i[4]], let xs = initializers[i[1]] else {
                    throw ModelPressError.invalidModel(
                        file: file, location: "node '\(original.name)' (QLinearConv)", message: "needs constant scales and weights",
                        hint: "re-export the quantized model")
                }
                let fail = { (m: String) in ModelPressError.invalidModel(file: file, location: "node '\(original.name)' (QLinearConv)", message: m, hint: "re-export the quantized model") }
                let x = fresh(out + "/x"), w = fresh(out + "/w"), y = fresh(out + "/y")
                nodes.append(node("DequantizeLinear", [i[0], i[1], i[2]], x))
                nodes.append(node("DequantizeLinear", [i[3], i[4], i[5]], w, [ONNXAttribute.int("axis", 0)]))
                var convInputs = [x, w]
                if i.count > 8, !i[8].isEmpty {
                    let xScale = try ONNXTensor.floats(xs, fail).storage.first ?? 1
                    let wScales = try ONNXTensor.floats(ws, fail)
                    let biasScale = fresh(out + "/bias_scale")
                    let scales = try Tensor(shape: wScales.shape, storage: wScales.storage.map { xScale * $0 })
                    g.initializer.append(ONNXTensor.float(biasScale, scales))
                    initializers[biasScale] = g.initializer.last
                    let b = fresh(out + "/b")
                    nodes.append(node("DequantizeLinear", [i[8], biasScale], b, [ONNXAttribute.int("axis", 0)]))
                    convInputs.append(b)
                }
                var conv = node("Conv", convInputs, y, original.attribute)
                conv.name = original.name
                conv.docString = original.docString
                nodes.append(conv)
                nodes.append(node("QuantizeLinear", [y, i[6], i[7]], out))
                integer[out] = (i[6], i[7])
            default:
                guard let x = original.input.first, let (scale, zero) = integer[x], let out = original.output.first else {
                    nodes.append(original)
                    continue
                }
                let dq = fresh(x + "/dq"), y = fresh(out + "/float")
                nodes.append(node("DequantizeLinear", [x, scale, zero], dq))
                var floatNode = original
                floatNode.input[0] = dq
                floatNode.output[0] = y
                nodes.append(floatNode)
                nodes.append(node("QuantizeLinear", [y, scale, zero], out))
                integer[out] = (scale, zero)
            }
        }
        g.node = nodes
        return g
    }
}
