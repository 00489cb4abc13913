import ONNXProto
import TensorCore

/// The QDQ form of a quantized graph (`Graph.quantization`): every annotated activation is
/// written by its producer, then `QuantizeLinear → DequantizeLinear`, and its readers read the
/// dequantized value; every annotated initializer is stored as int8 / int32 integers behind a
/// `DequantizeLinear` (per axis for per-channel weights, opset 13) that writes the
/// initializer's name. `ONNXImporter` folds both patterns back into annotations.
struct QDQLayout {
    /// The graph to lower: readers renamed, annotated initializers removed (their DQ writes them).
    var graph: Graph
    /// Annotated activation → the name its producer writes.
    var written: [String: String] = [:]
    /// Annotated activation → the name its readers read (the DequantizeLinear output).
    var read: [String: String] = [:]
    /// The annotations (from the original graph).
    let quantization: [String: TensorQuantization]
    /// Annotated initializers of the original graph, by name.
    let quantizedInitializers: [String: Tensor]

    /// The layout for `original`.
    init(_ original: Graph) {
        var g = original
        quantization = original.quantization
        var taken = Set(original.shapes.keys)
        for node in original.nodes { taken.insert(node.name) }
        func fresh(_ base: String) -> String {
            var name = base, i = 1
            while taken.contains(name) { name = "\(base)_\(i)"; i += 1 }
            taken.insert(name)
            return name
        }
        let outputs = Set(original.outputs.map(\.name))
        var written: [String: String] = [:], read: [String: String] = [:]
        for (value, _) in original.quantization.sorted(by: { $0.key < $1.key }) where original.initializers[value] == nil {
            guard let shape = original.shapes[value] else { continue }
            if outputs.contains(value) {
                let pre = fresh(value + "/float")
                (written[value], read[value]) = (pre, value)
                g.shapes[pre] = shape
            } else {
                let dq = fresh(value + "/dq")
                (written[value], read[value]) = (value, dq)
                g.shapes[dq] = shape
            }
        }
        for i in g.nodes.indices {
            g.nodes[i].inputs = g.nodes[i].inputs.map { read[$0] ?? $0 }
            g.nodes[i].outputs = g.nodes[i].outputs.map { written[$0] ?? $0 }
        }
        var constants: [String: Tensor] = [:]
        for name in original.quantization.keys {
            if let t = g.initializers.removeValue(forKey: name) { constants[name] = t }
        }
        quantizedInitializers = constants
        graph = g
        self.written = written
        self.read = read
    }
}

extension ONNXGraphBuilder {
    /// Lowers a quantized graph in QDQ form (see `QDQLayout`): weight DequantizeLinear nodes
    /// first (sorted by name), then each IR node followed by a Q/DQ pair per annotated output.
    /// With `matMulNBits`, Dense layers on 4- / 8-bit blocks are MatMulNBits nodes instead, and a
    /// weight only they read gets no DequantizeLinear. Returns, per ONNX node, the IR node it was
    /// lowered from ("" for the Q / DQ nodes), for `assignHalfPrecision`.
    @discardableResult
    mutating func lowerQDQ(_ layout: QDQLayout, matMulNBits: Bool = false) throws -> [String] {
        let contrib = Set(matMulNBits ? graph.nodes.filter { Self.writesMatMulNBits($0, layout.quantization) }.map(\.name) : [])
        let relaid = relayRecurrentWeights(of: graph.nodes, weights: layout.quantizedInitializers, quantization: layout.quantization)
        let dequantized = layout.quantization.filter { name, _ in
            !relaid.contains(name) && !(layout.quantizedInitializers[name] != nil && graph.nodes.filter { $0.inputs.contains(name) }.allSatisfy { contrib.contains($0.name) })
        }
        try Self.checkOpset(opset, for: dequantized)
        for (name, tensor) in layout.quantizedInitializers.sorted(by: { $0.key < $1.key }) {
            guard let q = dequantized[name] else { continue }
            try dequantizeConstant(name, tensor, q)
        }
        for input in graph.inputs where layout.read[input.name] != nil { quantizeDequantize(input.name, layout) }
        var originalOutput: [String: String] = [:]
        for (value, written) in layout.written { originalOutput[written] = value }
        var origins = [String](repeating: "", count: nodes.count)
        for node in graph.nodes {
            if contrib.contains(node.name), let weight = layout.quantizedInitializers[node.inputs[1]], let q = layout.quantization[node.inputs[1]] {
                try lowerMatMulNBits(node, weight: weight, q)
            } else {
                try lower(node)
            }
            origins += repeatElement(node.name, count: nodes.count - origins.count)
            for output in node.outputs { if let value = originalOutput[output] { quantizeDequantize(value, layout) } }
            origins += repeatElement("", count: nodes.count - origins.count)
        }
        return origins
    }

    /// Fails when an annotation needs a newer opset than `opset`: 16- and 4-bit types and blocks
    /// exist in QuantizeLinear / DequantizeLinear from opset 21.
    static func checkOpset(_ opset: Int, for quantization: [String: TensorQuantization]) throws {
        guard opset < 21,
            let (name, q) = quantization.sorted(by: { $0.key < $1.key }).first(where: { $0.value.bits != 8 && $0.value.bits != 32 || $0.value.blockSize != nil })
        else { return }
        let what = q.blockSize.map { "\(q.type.rawValue) in blocks of \($0)" } ?? q.type.rawValue
        let hint = q.bits == 16 ? "use --opset 21 with --bits 16 (or --bits 8)" : "use --opset 21, or --allow-contrib-ops for onnxruntime's MatMulNBits"
        throw ModelPressError.invalidArgument(
            "'\(name)' is quantized to \(what), which ONNX DequantizeLinear accepts from opset 21 only; --opset is \(opset).\nHINT: \(hint).")
    }

    /// `QuantizeLinear(written) → DequantizeLinear → read` for annotated activation `value`,
    /// the scale and zero point initializers shared by both nodes.
    private mutating func quantizeDequantize(_ value: String, _ layout: QDQLayout) {
        guard let q = layout.quantization[value], let written = layout.written[value], let read = layout.read[value] else { return }
        let scale = sharedScale(value + "/scale", q.scales[0])
        let zeroName = sharedZeroPoint(q.zeroPoints[0], type: q.type)
        let quantized = fresh(value + "/q")
        add("QuantizeLinear", name: quantized, inputs: [written, scale, zeroName], output: quantized, shape: nil)
        // Node names are their own namespace: the DequantizeLinear is named after what it writes
        // (or `<value>/dq` when it writes the graph output), which keeps the file small.
        add("DequantizeLinear", name: read == value ? fresh(value + "/dq") : read, inputs: [quantized, scale, zeroName], output: read, shape: nil)
    }

    /// A scalar float scale initializer named after `base`, or an earlier activation scale with
    /// the same value (MaxPool / Flatten / Reshape outputs share their input's parameters).
    mutating func sharedScale(_ base: String, _ value: Float) -> String {
        let proto = ONNXTensor.float("", Tensor(scalar: value))
        if let existing = initializers.first(where: { $0.name.hasSuffix("/scale") && $0.dims.isEmpty && $0.dataType == proto.dataType && $0.rawData == proto.rawData }) {
            return existing.name
        }
        return scalar(base, value)
    }

    /// The scalar zero point initializer for `value` of `type` (one per distinct (type, value)
    /// in the file, shared by every Q/DQ node using it, e.g. `zp_uint8_0`).
    mutating func sharedZeroPoint(_ value: Int32, type: QuantizedElementType, count: Int? = nil) -> String {
        let base = "zp_\(type.rawValue)_\(value)" + (count.map { "x\($0)" } ?? "")
        let proto = ONNXTensor.quantized("", [Int64](repeating: Int64(value), count: count ?? 1), shape: count.map { [$0] } ?? [], type: type)
        if let existing = initializers.first(where: { $0.name.hasPrefix(base) && $0.dataType == proto.dataType && $0.dims == proto.dims && $0.rawData == proto.rawData }) {
            return existing.name
        }
        var named = proto
        named.name = fresh(base)
        appendInitializer(named)
        return named.name
    }

    /// An integer initializer for `tensor` and the DequantizeLinear writing `name`: per tensor,
    /// per channel (`axis`) or per block (`axis` and `block_size`, opset 21); with float16 scales
    /// the DequantizeLinear writes float16 and a Cast writes `name`. Zero points are
    /// written only when one is not 0 (weights and biases of static quantization are
    /// symmetric; asymmetric weight-only blocks are not), since DequantizeLinear reads a missing one as 0.
    mutating func dequantizeConstant(_ name: String, _ tensor: Tensor, _ q: TensorQuantization) throws {
        let index = ParameterIndexing(q, shape: tensor.shape)
        let storage = tensor.storage
        let values = storage.indices.lazy.map { i in q.quantize(storage[i], channel: index(i)) }
        let integers = fresh(name + "/q")
        appendInitializer(ONNXTensor.quantized(integers, values, shape: tensor.shape, type: q.type))
        let parameterShape = q.parameterShape(for: tensor.shape)
        let scales = try Tensor(shape: parameterShape, storage: q.scales)
        let scale: String
        if q.halfScales {
            scale = fresh(name + "/scale")
            appendInitializer(ONNXTensor.half(scale, scales))
        } else {
            scale = constant(name + "/scale", scales)
        }
        var attributes: [Onnx_AttributeProto] = parameterShape.isEmpty ? [] : [.int("axis", q.axis ?? 0)]
        if let block = q.blockSize { attributes.append(.int("block_size", block)) }
        var inputs = [integers, scale]
        if q.zeroPoints.contains(where: { $0 != 0 }) {
            let zeroPoints = fresh(name + "/zero_point")
            appendInitializer(ONNXTensor.quantized(zeroPoints, q.zeroPoints.map(Int64.init), shape: parameterShape, type: q.type))
            inputs.append(zeroPoints)
        }
        guard q.halfScales else {
            add("DequantizeLinear", name: fresh(name + "/dq"), inputs: inputs, output: name, attributes: attributes, shape: nil)
            return
        }
        // A float16 scale makes DequantizeLinear write float16; one Cast gives readers float32.
        let half = fresh(name + "/half")
        add("DequantizeLinear", name: fresh(name + "/dq"), inputs: inputs, output: half, attributes: attributes, shape: nil, elemType: ONNXDataType.float16)
        add("Cast", name: fresh(name + "/cast"), inputs: [half], output: name, attributes: [.int("to", Int(ONNXDataType.float))], shape: nil)
    }
}
