import TensorCore

/// Runs a graph in float32 on the CPU: one kernel per node, values freed after their last use.
public struct Executor: Sendable {
    /// The graph executed.
    public let graph: Graph
    /// For each node index, the values whose last reader it is.
    private let releaseAfter: [[String]]

    /// Prepares `graph` for execution.
    public init(graph: Graph) {
        self.graph = graph
        var lastUse: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && graph.initializers[input] == nil { lastUse[input] = i }
        }
        for output in graph.outputs { lastUse[output.name] = graph.nodes.count }
        var release = [[String]](repeating: [], count: graph.nodes.count)
        for (name, index) in lastUse where index < graph.nodes.count { release[index].append(name) }
        releaseAfter = release
    }

    /// Runs the graph on a batch: `inputs` maps each graph input name to an N×… tensor whose
    /// per-sample shape matches the declared one. Returns the outputs in graph order.
    public func run(_ inputs: [String: Tensor]) throws -> [Tensor] {
        var values: [String: Tensor] = [:]
        for info in graph.inputs {
            guard let t = inputs[info.name] else { throw ModelPressError.invalidArgument("no data for graph input '\(info.name)'") }
            guard t.rank == info.shape.count, Array(t.shape.dropFirst()) == Array(info.shape.dropFirst()) else {
                throw ModelPressError.invalidArgument("input '\(info.name)' has shape \(t.shape); the model expects [N] + \(Array(info.shape.dropFirst()))")
            }
            values[info.name] = t
        }
        for (index, node) in graph.nodes.enumerated() {
            let args: [Tensor?] = try node.inputs.map { name in
                if name.isEmpty { return nil }
                if let v = values[name] ?? graph.initializers[name] { return v }
                throw ModelPressError.internalError("value '\(name)' read by node '\(node.name)' is not available")
            }
            values[node.output] = try Self.execute(node.op, args)
            for name in releaseAfter[index] { values[name] = nil }
        }
        return try graph.outputs.map { info in
            guard let t = values[info.name] else { throw ModelPressError.internalError("output '\(info.name)' was not computed") }
            return t
        }
    }

    /// Runs a single-input graph on `x` and returns its first output.
    public func run(_ x: Tensor) throws -> Tensor {
        guard graph.inputs.count == 1, let name = graph.inputs.first?.name else {
            throw ModelPressError.invalidArgument("the model has \(graph.inputs.count) inputs; give one tensor per input")
        }
        return try run([name: x])[0]
    }

    /// Executes one op on its arguments (`nil` for absent optional inputs).
    static func execute(_ op: Op, _ a: [Tensor?]) throws -> Tensor {
        func arg(_ i: Int) throws -> Tensor {
            guard i < a.count, let t = a[i] else { throw ModelPressError.internalError("\(op.name): missing input \(i)") }
            return t
        }
        func optional(_ i: Int) -> Tensor? { i < a.count ? a[i] : nil }
        switch op {
        case .conv2D(let attributes): return try conv2D(try arg(0), weights: try arg(1), bias: optional(2), attributes: attributes)
        case .linear: return try linear(try arg(0), weights: try arg(1), bias: optional(2))
        case .batchNormalization(let epsilon):
            return batchNormalization(try arg(0), scale: try arg(1), bias: try arg(2), mean: try arg(3), variance: try arg(4), epsilon: epsilon)
        case .activation(let f): return applyActivation(f, try arg(0))
        case .prelu: return try prelu(try arg(0), slope: try arg(1))
        case .softmax(let axis): return softmax(try arg(0), axis: axis)
        case .maxPool2D(let attributes): return try pool2D(try arg(0), attributes: attributes, max: true)
        case .averagePool2D(let attributes): return try pool2D(try arg(0), attributes: attributes, max: false)
        case .globalAveragePool: return try globalPool(try arg(0), max: false)
        case .globalMaxPool: return try globalPool(try arg(0), max: true)
        case .flatten:
            let x = try arg(0)
            return try x.reshaped([x.shape[0], x.count / max(1, x.shape[0])])
        case .reshape(let shape):
            let x = try arg(0)
            return try x.reshaped([x.shape[0]] + shape)
        case .transpose(let perm): return try transpose(try arg(0), perm: perm)
        case .elementwise(let kind): return try elementwise(kind, try (0..<a.count).map(arg))
        case .concat(let axis): return try concat(try (0..<a.count).map(arg), axis: axis)
        case .pad(let pads): return try pad(try arg(0), pads: pads)
        case .slice(let begin, let end):
            let x = try arg(0)
            var b = begin, e = end
            (b[0], e[0]) = (0, x.shape[0])
            return try slice(x, begin: b, end: e)
        case .upsampleNearest(let scales): return try upsampleNearest(try arg(0), scales: scales)
        case .identity: return try arg(0)
        }
    }
}
