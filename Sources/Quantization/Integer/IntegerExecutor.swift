import Engine
import TensorCore

/// Runs a quantized graph (`Graph.quantization`) the way an integer-only runtime does: a Conv
/// or Dense whose input, weights, bias and output are all annotated runs on integers (int8/uint8
/// operands, int32 accumulator, fixed-point requantization, see `IntegerKernels`); MaxPool,
/// Flatten, Reshape, Transpose and Identity move integers unchanged when the output shares the
/// input's parameters; every other op dequantizes its inputs, runs the float kernel and
/// quantizes its output if annotated (what the QDQ file says for ops with no integer form).
public struct IntegerExecutor {
    /// The quantized graph.
    public let graph: Graph
    /// Integer Conv/Dense nodes by index: weights and biases as integers, multipliers.
    private let integerNodes: [Int: IntegerNode]
    /// Annotated initializers, dequantized (for float fallback ops).
    private let dequantized: [String: Tensor]
    /// How requantization rounds.
    public let rounding: RequantizationRounding

    /// A value during execution: float, or integers with their parameters (per tensor).
    private enum Value {
        case float(Tensor)
        case quantized([Int32], shape: [Int], TensorQuantization)
    }

    private struct IntegerNode {
        var weights: [Int32], weightShape: [Int], bias: [Int32], multipliers: [FixedPointMultiplier]
    }

    /// Prepares `graph`; fails when it carries no quantization annotations.
    public init(graph: Graph, rounding: RequantizationRounding = .singleRounding) throws {
        self.rounding = rounding
        guard !graph.quantization.isEmpty else {
            throw ModelPressError.invalidArgument("the integer engine runs quantized models only; quantize the model first (modelpress quantize)")
        }
        if let wide = graph.quantization.first(where: { $0.value.bits == 16 }) {
            throw ModelPressError.invalidArgument(
                "the integer engine runs 8-bit models only; value '\(wide.key)' is \(wide.value.type.rawValue) (--bits 16).\nHINT: run 16-bit models with the float engine (without --integer) or in onnxruntime; an int16×int16 product needs a 64-bit accumulator this engine does not have."
            )
        }
        self.graph = graph
        var floats: [String: Tensor] = [:]
        for (name, q) in graph.quantization {
            guard var t = graph.initializers[name] else { continue }
            q.fakeQuantize(&t)
            floats[name] = t
        }
        dequantized = floats
        var nodes: [Int: IntegerNode] = [:]
        for (i, node) in graph.nodes.enumerated() {
            if let prepared = try Self.prepare(node, graph) { nodes[i] = prepared }
        }
        integerNodes = nodes
    }

    /// Integer weights, bias and per-channel multipliers for a Conv/Dense whose operands are
    /// all annotated (per-tensor activations, int8 or int4 weights, int32 bias with scale s_x·s_w).
    private static func prepare(_ node: Node, _ graph: Graph) throws -> IntegerNode? {
        guard node.hasIntegerKernel, let xq = graph.quantization[node.inputs[0]], xq.axis == nil,
            let yq = graph.quantization[node.output], yq.axis == nil, yq.type != .int32,
            let w = graph.initializers[node.inputs[1]], let wq = graph.quantization[node.inputs[1]], wq.type == .int8 || wq.type == .int4
        else { return nil }
        let channels = wq.scales.count
        let inner = wq.axis.map { w.shape[($0 + 1)...].reduce(1, *) } ?? w.count
        let weights = w.storage.enumerated().map { i, v -> Int32 in
            let c = channels == 1 ? 0 : (i / max(1, inner)) % channels
            return Int32(wq.quantize(v, channel: c)) - wq.zeroPoints[c]
        }
        var bias: [Int32] = []
        if let biasName = node.bias {
            guard let b = graph.initializers[biasName], let bq = graph.quantization[biasName], bq.type == .int32,
                bq.zeroPoints.allSatisfy({ $0 == 0 })
            else { return nil }
            // The bias must be on the accumulator's grid (scale s_x·s_w,c), or it cannot be added.
            for (c, s) in bq.scales.enumerated() {
                let expected = xq.scales[0] * wq.scales[channels == 1 ? 0 : c]
                guard abs(s - expected) <= 1e-6 * expected else { return nil }
            }
            bias = b.storage.enumerated().map { c, v in Int32(bq.quantize(v, channel: bq.scales.count == 1 ? 0 : c)) }
        }
        let multipliers = try wq.scales.map { sw -> FixedPointMultiplier in
            let real = Double(xq.scales[0]) * Double(sw) / Double(yq.scales[0])
            guard let m = FixedPointMultiplier(real) else {
                throw ModelPressError.invalidModel(
                    file: "", location: "node '\(node.name)'", message: "requantization multiplier \(real) cannot be represented",
                    hint: "re-quantize the model; its scales are out of range")
            }
            return m
        }
        return IntegerNode(weights: weights, weightShape: w.shape, bias: bias, multipliers: multipliers)
    }

    /// The per-channel requantization multipliers of integer node `name` (nil when that node
    /// runs in float): with `--scheme pow2` every one is a power of two, i.e. a pure shift.
    public func multipliers(ofNode name: String) -> [FixedPointMultiplier]? {
        guard let i = graph.nodes.firstIndex(where: { $0.name == name }) else { return nil }
        return integerNodes[i]?.multipliers
    }

    /// Runs a single-input graph on `x` and returns its first output as float (dequantized).
    public func run(_ x: Tensor) throws -> Tensor {
        guard graph.inputs.count == 1, let input = graph.inputs.first else {
            throw ModelPressError.invalidArgument("the model has \(graph.inputs.count) inputs; the integer engine runs single-input models")
        }
        var values: [String: Value] = [input.name: quantizeIfAnnotated(input.name, x)]
        for (i, node) in graph.nodes.enumerated() {
            for (name, value) in zip(node.outputs, try execute(i, node, &values)) { values[name] = value }
        }
        guard let out = graph.outputs.first, let value = values[out.name] else {
            throw ModelPressError.internalError("output was not computed")
        }
        return try float(value)
    }

    /// The node's outputs: integer kernels for planned Conv/Dense, integer moves for
    /// transparent ops, else the float kernel on dequantized inputs.
    private func execute(_ index: Int, _ node: Node, _ values: inout [String: Value]) throws -> [Value] {
        if let integer = integerNodes[index], case .quantized(let x, let shape, let xq)? = values[node.inputs[0]],
            let yq = graph.quantization[node.output]
        {
            let centred = x.map { $0 - xq.zeroPoints[0] }
            if case .conv2D(let a) = node.op {
                let (out, outShape) = IntegerKernels.conv2D(
                    centred, shape: shape, weights: integer.weights, weightShape: integer.weightShape,
                    bias: integer.bias, attributes: a, multipliers: integer.multipliers, output: yq,
                    rounding: rounding)
                return [.quantized(out, shape: outShape, yq)]
            }
            let k = shape.last ?? 1, m = integer.weightShape[1], rows = x.count / max(1, k)
            let out = IntegerKernels.linear(
                centred, rows: rows, k: k, weights: integer.weights, m: m, bias: integer.bias,
                multipliers: integer.multipliers, output: yq, rounding: rounding)
            return [.quantized(out, shape: Array(shape.dropLast()) + [m], yq)]
        }
        if node.op.definition.quantizationRole == .transparent, case .quantized(let x, let shape, let xq)? = values[node.inputs[0]], graph.quantization[node.output] == xq {
            // Exact on integer-valued floats: these ops only move or compare values.
            let moved = try Executor.evaluate(node.op, [try Tensor(shape: shape, storage: x.map(Float.init))])
            return [.quantized(moved.storage.map { Int32($0) }, shape: moved.shape, xq)]
        }
        var inputs: [Tensor?] = try node.inputs.map { name in
            if let v = values[name] { return try float(v) }
            if let t = dequantized[name] ?? graph.initializers[name] { return t }
            throw ModelPressError.internalError("value '\(name)' read by node '\(node.name)' is not available")
        }
        return zip(node.outputs, try Executor.execute(node.op, &inputs)).map { quantizeIfAnnotated($0, $1) }
    }

    /// `t` as integers when `name` is annotated (per tensor), else as float.
    private func quantizeIfAnnotated(_ name: String, _ t: Tensor) -> Value {
        guard let q = graph.quantization[name], q.axis == nil, q.type != .int32 else {
            var v = t
            graph.quantization[name]?.fakeQuantize(&v)
            return .float(v)
        }
        return .quantized(t.storage.map { Int32(q.quantize($0)) }, shape: t.shape, q)
    }

    private func float(_ v: Value) throws -> Tensor {
        switch v {
        case .float(let t): return t
        case .quantized(let ints, let shape, let q): return try Tensor(shape: shape, storage: ints.map { q.dequantize(Int64($0)) })
        }
    }
}

extension IntegerExecutor {
    /// The first output for every sample of `data`, in batches of `batchSize`.
    public func predict(_ data: any BatchSource, batchSize: Int, progress: (Int, Int) -> Void = { _, _ in }) throws -> Tensor {
        guard batchSize >= 1 else { throw ModelPressError.invalidArgument("--batch-size must be at least 1 (got \(batchSize))") }
        guard let input = graph.inputs.first else { throw ModelPressError.invalidArgument("the model has no input") }
        let shape = try data.feedShape(for: input.shape, model: graph.metadata["source_path"])
        var storage: [Float] = []
        var sampleShape: [Int] = []
        var start = 0
        while start < data.count {
            let rows = start..<min(start + batchSize, data.count)
            let out = try run(try data.inputs(rows, as: shape))
            sampleShape = Array(out.shape.dropFirst())
            storage.append(contentsOf: out.storage)
            start = rows.upperBound
            progress(start, data.count)
        }
        return try Tensor(shape: [data.count] + sampleShape, storage: storage)
    }
}
