import Dispatch
import TensorCore

/// Called with each value's name and contents as the executor computes it (graph inputs
/// first, then every node output in order), after fake quantization; for calibration.
public typealias ValueObserver = (_ name: String, _ value: Tensor) throws -> Void

/// Runs a graph in float32 on the CPU: one kernel per node, values freed after their last use.
/// Values with a quantization annotation (`Graph.quantization`) are fake-quantized: annotated
/// weights once here, annotated activations as they are computed.
public struct Executor: Sendable {
    /// The graph executed.
    public let graph: Graph
    /// Annotated initializers, quantized then dequantized (read instead of the float ones).
    private let quantizedInitializers: [String: Tensor]
    /// For each node index, the values whose last reader it is.
    private let releaseAfter: [[String]]
    /// For each node index, whether it may take its first input over (it is the value's last
    /// reader, reads it once, and the value is an activation, not a weight or graph output),
    /// so in-place kernels can reuse the buffer instead of copying it.
    private let ownsFirstInput: [Bool]
    /// Samples per batch slice: as many as keep the graph's largest per-sample activation
    /// within `sliceActivationBudget` floats (see `run(_:threads:)`).
    public let cacheFriendlyBatch: Int

    /// Prepares `graph` for execution.
    public init(graph: Graph) {
        self.graph = graph
        var quantized: [String: Tensor] = [:]
        for (name, q) in graph.quantization {
            guard var t = graph.initializers[name] else { continue }
            q.fakeQuantize(&t)
            quantized[name] = t
        }
        quantizedInitializers = quantized
        var lastUse: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && graph.initializers[input] == nil { lastUse[input] = i }
        }
        for output in graph.outputs { lastUse[output.name] = graph.nodes.count }
        var release = [[String]](repeating: [], count: graph.nodes.count)
        for (name, index) in lastUse where index < graph.nodes.count { release[index].append(name) }
        releaseAfter = release
        ownsFirstInput = graph.nodes.enumerated().map { i, node in
            guard let first = node.inputs.first, !first.isEmpty else { return false }
            return lastUse[first] == i && node.inputs.filter { $0 == first }.count == 1
        }
        let largest = graph.nodes.compactMap { graph.shapes[$0.output].flatMap { Checked.product($0.dropFirst()) } }.max() ?? 1
        cacheFriendlyBatch = max(1, sliceActivationBudget / max(1, largest))
    }

    /// Runs the graph on a batch: `inputs` maps each graph input name to an N×… tensor whose
    /// per-sample shape matches the declared one. Returns the outputs in graph order.
    /// `observe`, when given, sees every graph input and node output (see `ValueObserver`).
    public func run(_ inputs: [String: Tensor], profile: ExecutionProfile? = nil, observe: ValueObserver? = nil) throws -> [Tensor] {
        var values: [String: Tensor] = [:]
        for info in graph.inputs {
            guard let t = inputs[info.name] else { throw ModelPressError.invalidArgument("no data for graph input '\(info.name)'") }
            guard t.rank == info.shape.count, Array(t.shape.dropFirst()) == Array(info.shape.dropFirst()) else {
                throw ModelPressError.invalidArgument("input '\(info.name)' has shape \(t.shape); the model expects [N] + \(Array(info.shape.dropFirst()))")
            }
            var value = t
            graph.quantization[info.name]?.fakeQuantize(&value)
            try observe?(info.name, value)
            values[info.name] = value
        }
        for (index, node) in graph.nodes.enumerated() {
            var args: [Tensor?] = try node.inputs.enumerated().map { position, name in
                if name.isEmpty { return nil }
                if position == 0 && ownsFirstInput[index], let owned = values.removeValue(forKey: name) { return owned }
                if let v = values[name] ?? quantizedInitializers[name] ?? graph.initializers[name] { return v }
                throw ModelPressError.internalError("value '\(name)' read by node '\(node.name)' is not available")
            }
            let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            var output = try Self.execute(node.op, &args)
            graph.quantization[node.output]?.fakeQuantize(&output)
            profile?.record(node.op, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
            try observe?(node.output, output)
            values[node.output] = output
            for name in releaseAfter[index] { values[name] = nil }
        }
        return try graph.outputs.map { info in
            guard let t = values[info.name] else { throw ModelPressError.internalError("output '\(info.name)' was not computed") }
            return t
        }
    }

    /// Runs a single-input graph on `x` and returns its first output.
    public func run(_ x: Tensor, profile: ExecutionProfile? = nil, observe: ValueObserver? = nil) throws -> Tensor {
        guard graph.inputs.count == 1, let name = graph.inputs.first?.name else {
            throw ModelPressError.invalidArgument("the model has \(graph.inputs.count) inputs; give one tensor per input")
        }
        return try run([name: x], profile: profile, observe: observe)[0]
    }

    /// Executes one op on `inputs` (`nil` for absent optional inputs) with the float kernel
    /// `run` uses; for executors that run some ops themselves (the integer executor).
    public static func evaluate(_ op: Op, _ inputs: [Tensor?]) throws -> Tensor {
        var a = inputs
        return try execute(op, &a)
    }

    /// Executes one op on its arguments (`nil` for absent optional inputs). Takes the first
    /// argument out of `a`, so an in-place kernel holds the only reference to its buffer; a
    /// tensor the caller still references elsewhere is copied first (copy on write), never
    /// overwritten.
    public static func execute(_ op: Op, _ a: inout [Tensor?]) throws -> Tensor {
        func arg(_ i: Int) throws -> Tensor {
            guard i < a.count, let t = a[i] else { throw ModelPressError.internalError("\(op.name): missing input \(i)") }
            return t
        }
        func take(_ i: Int) throws -> Tensor {
            let t = try arg(i)
            a[i] = nil
            return t
        }
        func optional(_ i: Int) -> Tensor? { i < a.count ? a[i] : nil }
        switch op {
        case .conv2D(let attributes): return try conv2D(try arg(0), weights: try arg(1), bias: optional(2), attributes: attributes)
        case .linear: return try linear(try arg(0), weights: try arg(1), bias: optional(2))
        case .batchNormalization(let epsilon):
            var x = try take(0)
            batchNormalization(&x, scale: try arg(1), bias: try arg(2), mean: try arg(3), variance: try arg(4), epsilon: epsilon)
            return x
        case .activation(let f):
            var x = try take(0)
            applyActivation(f, &x)
            return x
        case .prelu: return try prelu(try take(0), slope: try arg(1))
        case .softmax(let axis):
            var x = try take(0)
            softmax(&x, axis: axis)
            return x
        case .maxPool2D(let attributes): return try pool2D(try arg(0), attributes: attributes, max: true)
        case .averagePool2D(let attributes): return try pool2D(try arg(0), attributes: attributes, max: false)
        case .globalAveragePool: return try globalPool(try arg(0), max: false)
        case .globalMaxPool: return try globalPool(try arg(0), max: true)
        case .flatten:
            let x = try take(0)
            return try x.reshaped([x.shape[0], x.count / max(1, x.shape[0])])
        case .reshape(let shape):
            let x = try take(0)
            return try x.reshaped([x.shape[0]] + shape)
        case .transpose(let perm): return try transpose(try arg(0), perm: perm)
        case .elementwise(let kind):
            let first = try take(0)
            return try elementwise(kind, first, try (1..<a.count).map(arg))
        case .concat(let axis): return try concat(try (0..<a.count).map(arg), axis: axis)
        case .pad(let pads): return try pad(try arg(0), pads: pads)
        case .slice(let begin, let end):
            let x = try arg(0)
            var b = begin, e = end
            (b[0], e[0]) = (0, x.shape[0])
            return try slice(x, begin: b, end: e)
        case .upsampleNearest(let scales): return try upsampleNearest(try arg(0), scales: scales)
        case .identity: return try take(0)
        }
    }
}
