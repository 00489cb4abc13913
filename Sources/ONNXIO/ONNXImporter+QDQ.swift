import ONNXProto
import TensorCore

/// Reads the QDQ form back into float values plus `Graph.quantization` annotations, before the
/// float import runs:
/// - `DequantizeLinear` of a constant integer tensor becomes a float weight named after its
///   output (`scale · (q − zero_point)`, in `weights`), annotated with the integer parameters;
///   with float16 scales read only by Casts to float32, named after the Casts' output;
/// - `QuantizeLinear(x) → DequantizeLinear → y` on an activation (every reader of the
///   quantized value a DequantizeLinear with the same parameters) disappears: readers of `y`
///   read `x`, and `x` is annotated (when `y` is a graph output, `x` is renamed `y`).
/// Anything else (a QuantizeLinear read by other ops, QLinear* operators) is left for the
/// importer, which refuses it with a hint.
struct QDQFolding {
    /// The float graph.
    var graph: Onnx_GraphProto
    /// Annotations by value name.
    var quantization: [String: TensorQuantization] = [:]
    /// The dequantized weights, by name (tensors, not protos: a weight is not held twice).
    var weights: [String: Tensor] = [:]

    /// Folds the QDQ patterns of `onnx` (file `file` in errors).
    init(_ onnx: Onnx_GraphProto, file: String) throws {
        graph = onnx
        guard onnx.node.contains(where: { $0.opType == "QuantizeLinear" || $0.opType == "DequantizeLinear" }) else { return }
        func fail(_ node: Onnx_NodeProto, _ message: String) -> ModelPressError {
            .invalidModel(
                file: file, location: "node '\(node.name)' (\(node.opType))", message: message,
                hint: "re-export the quantized model; ModelPress reads QDQ models with constant scales and zero points")
        }
        var initializers: [String: Onnx_TensorProto] = [:]
        for t in onnx.initializer { initializers[t.name] = t }
        var readers: [String: [Int]] = [:]
        for (i, node) in onnx.node.enumerated() {
            for input in node.input where !input.isEmpty { readers[input, default: []].append(i) }
        }
        let outputs = Set(onnx.output.map(\.name))
        var removed = Set<Int>()
        var rename: [String: String] = [:]

        /// The annotation of a Q or DQ node from its constant scale / zero point inputs.
        func parameters(_ node: Onnx_NodeProto, integerType: Int32?) throws -> TensorQuantization? {
            guard node.input.count >= 2, let scaleProto = initializers[node.input[1]] else { return nil }
            let f = { (m: String) in fail(node, m) }
            let scales = try ONNXTensor.floats(scaleProto, f).storage
            var zeroPoints = [Int32](repeating: 0, count: scales.count)
            var typeCode = integerType ?? ONNXDataType.uint8
            if node.input.count >= 3, !node.input[2].isEmpty {
                guard let zp = initializers[node.input[2]] else { return nil }
                typeCode = zp.dataType
                zeroPoints = try ONNXTensor.int64s(zp, f).map { Int32(clamping: $0) }
            }
            let type: QuantizedElementType
            switch typeCode {
            case ONNXDataType.int8: type = .int8
            case ONNXDataType.uint8: type = .uint8
            case ONNXDataType.int16: type = .int16
            case ONNXDataType.uint16: type = .uint16
            case ONNXDataType.int32: type = .int32
            case ONNXDataType.int4: type = .int4
            case ONNXDataType.uint4: type = .uint4
            default: throw fail(node, "uses integer type \(typeCode); ModelPress reads int4, uint4, int8, uint8, int16, uint16 and int32")
            }
            guard zeroPoints.count == scales.count else { throw fail(node, "has \(scales.count) scales but \(zeroPoints.count) zero points") }
            let axis = scales.count > 1 ? node.int("axis", default: 1) : nil
            let block = node.int("block_size", default: 0)
            return TensorQuantization(
                scales: scales, zeroPoints: zeroPoints, axis: axis, type: type, blockSize: block > 0 && scales.count > 1 ? block : nil,
                halfScales: scaleProto.dataType == ONNXDataType.float16)
        }

        for (i, node) in onnx.node.enumerated() where node.opType == "DequantizeLinear" {
            guard let x = node.input.first, let q = initializers[x], let out = node.output.first else { continue }
            let f = { (m: String) in fail(node, m) }
            guard var p = try parameters(node, integerType: q.dataType) else { continue }
            let shape = try ONNXTensor.shape(of: q, f)
            if var axis = p.axis {
                if axis < 0 { axis += shape.count }
                p.axis = axis
            }
            try p.validate(for: shape, f)
            // A float16 weight read only through Casts to float32 (how ModelPress writes float16
            // block scales) is the float32 weight the Casts write.
            var target = out
            let casts = readers[out] ?? []
            if p.halfScales, !casts.isEmpty, !outputs.contains(out),
                casts.allSatisfy({ onnx.node[$0].opType == "Cast" && onnx.node[$0].int("to", default: 0) == Int(ONNXDataType.float) && onnx.node[$0].output.count == 1 })
            {
                target = onnx.node[casts[0]].output[0]
                for j in casts {
                    removed.insert(j)
                    if onnx.node[j].output[0] != target { rename[onnx.node[j].output[0]] = target }
                }
            }
            weights[target] = try Self.dequantized(q, p, shape: shape, f)
            quantization[target] = p
            removed.insert(i)
        }
        for (i, node) in onnx.node.enumerated() where node.opType == "QuantizeLinear" {
            guard let x = node.input.first, let qOut = node.output.first, initializers[x] == nil,
                let p = try parameters(node, integerType: nil), p.scales.count == 1,
                let users = readers[qOut], !users.isEmpty, !outputs.contains(qOut)
            else { continue }
            let pairs = try users.map { j -> Int? in
                let dq = onnx.node[j]
                guard dq.opType == "DequantizeLinear", dq.input.first == qOut, try parameters(dq, integerType: nil) == p else { return nil }
                return j
            }
            guard pairs.allSatisfy({ $0 != nil }) else { continue }
            let dqs = pairs.compactMap { $0 }
            let dqOutputs = dqs.compactMap { onnx.node[$0].output.first }
            var target = x
            if let graphOutput = dqOutputs.first(where: { outputs.contains($0) }) {
                target = graphOutput
                rename[x] = graphOutput
            }
            for y in dqOutputs where y != target { rename[y] = target }
            quantization[target] = p
            removed.insert(i)
            removed.formUnion(dqs)
        }
        func resolve(_ name: String) -> String {
            var n = name, steps = 0
            while let next = rename[n], next != n, steps < 64 { n = next; steps += 1 }
            return n
        }
        var nodes: [Onnx_NodeProto] = []
        for (i, node) in onnx.node.enumerated() where !removed.contains(i) {
            var n = node
            n.input = n.input.map { $0.isEmpty ? $0 : resolve($0) }
            n.output = n.output.map { $0.isEmpty ? $0 : resolve($0) }
            nodes.append(n)
        }
        graph.node = nodes
        let stillRead = Set(nodes.flatMap(\.input))
        graph.initializer = onnx.initializer.filter { stillRead.contains($0.name) }
        var remapped: [String: TensorQuantization] = [:]
        for (name, q) in quantization { remapped[resolve(name)] = q }
        quantization = remapped
    }

    /// `scale · (q − zero point)` for every element of the integer tensor `q` of `shape`; 8-bit
    /// raw data is read byte by byte (no 64-bit copy of a weight four times its float size).
    static func dequantized(_ q: Onnx_TensorProto, _ p: TensorQuantization, shape: [Int], _ fail: (String) -> ModelPressError) throws -> Tensor {
        let index = ParameterIndexing(p, shape: shape)
        let count = Checked.product(shape) ?? -1
        let signed = q.dataType == ONNXDataType.int8
        guard signed || q.dataType == ONNXDataType.uint8, q.rawData.count == count else {
            let ints = try ONNXTensor.int64s(q, fail)
            return try Tensor(shape: shape, storage: ints.enumerated().map { j, v in p.dequantize(v, channel: index(j)) })
        }
        let floats = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            q.rawData.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                for j in 0..<count {
                    let v = signed ? Int64(Int8(bitPattern: raw[j])) : Int64(raw[j])
                    buffer[j] = p.dequantize(v, channel: index(j))
                }
            }
            initialized = count
        }
        return try Tensor(shape: shape, storage: floats)
    }
}
