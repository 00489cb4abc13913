import Dispatch
import TensorCore

/// Called with each value's name and contents as the executor computes it (graph inputs
/// first, then every node output in order), after fake quantization; for calibration.
public typealias ValueObserver = (_ name: String, _ value: Tensor) throws -> Void

/// Runs a graph in float32 on the CPU: one kernel per node, values freed after their last use.
/// Values with a quantization annotation (`Graph.quantization`) are fake-quantized: annotated
/// weights once here, annotated activations as they are computed. Values held in float16
/// (`Graph.halfPrecision`) are rounded to float16 the same way, and a node that computes in
/// float16 reads its other float inputs rounded (the Casts of the file).
public struct Executor: Sendable {
    /// The graph executed.
    public let graph: Graph
    /// Initializers as the file stores them, read instead of the float ones: quantized then
    /// dequantized, or rounded to float16.
    private let storedInitializers: [String: Tensor]
    /// For each node index, the input positions rounded to float16 as it reads them (a node
    /// that computes in float16 reading a float32 value: a Cast in the file).
    private let halfPrecisionReads: [[Int]]
    /// For each node index, the values whose last reader it is.
    private let releaseAfter: [[String]]
    /// For each node index, whether it may take its first input over (it is the value's last
    /// reader, reads it once, and the value is an activation, not a weight or graph output),
    /// so in-place kernels can reuse the buffer instead of copying it.
    private let ownsFirstInput: [Bool]
    /// For each node index, the fusion it leads (`ConvFusion`), used when no observer runs.
    private let fusions: [ConvFusion?]
    /// For each node index, whether a fusion computes it (skipped when fusions run).
    private let absorbed: [Bool]
    /// The nodes a convolution's epilogue computes when no observer runs, in node order.
    public var fusedNodes: [String] { graph.nodes.indices.filter { absorbed[$0] }.map { graph.nodes[$0].name } }
    /// Samples per batch slice: as many as keep the graph's largest per-sample activation
    /// within `sliceActivationBudget` floats (see `run(_:threads:)`).
    public let cacheFriendlyBatch: Int

    /// Prepares `graph` for execution; `fusing: false` runs every node on its own (to measure
    /// what the fused epilogues buy).
    public init(graph: Graph, fusing: Bool = true) {
        self.graph = graph
        var stored: [String: Tensor] = [:]
        for (name, q) in graph.quantization {
            guard let weight = graph.initializers[name] else { continue }
            var t = weight
            q.fakeQuantize(&t)
            // A weight read from an int8 file already holds its dequantized values: no second copy.
            if t != weight { stored[name] = t }
        }
        for name in graph.halfPrecision where stored[name] == nil {
            guard var t = graph.initializers[name] else { continue }
            t.roundToHalfPrecision()
            stored[name] = t
        }
        storedInitializers = stored
        halfPrecisionReads = graph.nodes.map { node in
            guard node.outputs.contains(where: graph.halfPrecision.contains) else { return [] }
            let indices = node.op.definition.halfPrecision.indexInputs
            return node.inputs.indices.filter { !indices.contains($0) && !graph.halfPrecision.contains(node.inputs[$0]) }
        }
        let lastUse = graph.lastReaders()
        var release = [[String]](repeating: [], count: graph.nodes.count)
        for (name, index) in lastUse where index < graph.nodes.count { release[index].append(name) }
        releaseAfter = release
        ownsFirstInput = graph.nodes.enumerated().map { i, node in
            guard let first = node.inputs.first else { return false }
            return lastUse[first] == i && node.inputs.filter { $0 == first }.count == 1
        }
        fusions = fusing ? graph.convFusions() : graph.nodes.map { _ in nil }
        var absorbedNodes = [Bool](repeating: false, count: graph.nodes.count)
        for fusion in fusions.compactMap({ $0 }) { for j in fusion.absorbed { absorbedNodes[j] = true } }
        absorbed = absorbedNodes
        let largest = graph.nodes.flatMap(\.outputs).compactMap { graph.shapes[$0].flatMap { Checked.product($0.dropFirst()) } }.max() ?? 1
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
            if graph.halfPrecision.contains(info.name) { value.roundToHalfPrecision() }
            try observe?(info.name, value)
            values[info.name] = value
        }
        // Nodes are read in place (a `Node` copy per node per batch retains every array in its op).
        try graph.nodes.withUnsafeBufferPointer { nodes in
            for index in nodes.indices {
                try runNode(nodes[index], index, &values, profile: profile, observe: observe)
            }
        }
        return try graph.outputs.map { info in
            guard let t = values[info.name] else { throw ModelPressError.internalError("output '\(info.name)' was not computed") }
            return t
        }
    }

    /// Runs node `index` on `values`: its outputs stored, the values it read last released.
    /// Without an observer, a convolution leading a fusion also computes the nodes it absorbs,
    /// and those are skipped.
    private func runNode(_ node: borrowing Node, _ index: Int, _ values: inout [String: Tensor], profile: ExecutionProfile?, observe: ValueObserver?) throws {
        let fusion = observe == nil ? fusions[index] : nil
        if observe == nil && absorbed[index] {
            for name in releaseAfter[index] { values[name] = nil }
            return
        }
        func value(_ name: String) throws -> Tensor {
            if let v = values[name] ?? storedInitializers[name] ?? graph.initializers[name] { return v }
            throw ModelPressError.internalError("value '\(name)' read by node '\(node.name)' is not available")
        }
        var args: [Tensor?] = try node.inputs.enumerated().map { position, name in
            if position == 0 && ownsFirstInput[index], let owned = values.removeValue(forKey: name) { return owned }
            return try value(name)
        }
        for position in halfPrecisionReads[index] { args[position]?.roundToHalfPrecision() }
        let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        var outputs: [Tensor]
        let outputNames = fusion.map { [$0.output] } ?? node.outputs
        do {
            if let fusion, case .conv2D(let attributes) = node.op, let x = args[0], let w = args[1] {
                let epilogue = ConvEpilogue(residual: try fusion.residual.map(value), activation: fusion.activation)
                outputs = [try conv2D(x, weights: w, bias: args.count > 2 ? args[2] : nil, attributes: attributes, epilogue: epilogue)]
            } else {
                outputs = try Self.execute(node.op, &args)
            }
        } catch let bad as Embedding.IdOutOfRange {
            throw ModelPressError.invalidArgument(
                "layer '\(node.layer)' (Embedding): token id \(bad.id) at position \(bad.position) of its input '\(node.inputs[0])' is not a row of its \(bad.vocabulary)-row table.\nHINT: token ids must be whole numbers from 0 to \(bad.vocabulary - 1); check the data's tokenizer against the model's vocabulary."
            )
        }
        profile?.record(node.op, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
        for i in outputs.indices {
            graph.quantization[outputNames[i]]?.fakeQuantize(&outputs[i])
            if graph.halfPrecision.contains(outputNames[i]) { outputs[i].roundToHalfPrecision() }
            try observe?(outputNames[i], outputs[i])
        }
        for (name, output) in zip(outputNames, outputs) { values[name] = output }
        outputs = []
        for name in releaseAfter[index] { values[name] = nil }
    }

    /// Runs a single-input graph on `x` and returns its first output.
    public func run(_ x: Tensor, profile: ExecutionProfile? = nil, observe: ValueObserver? = nil) throws -> Tensor {
        guard graph.inputs.count == 1, let name = graph.inputs.first?.name else {
            throw ModelPressError.invalidArgument("the model has \(graph.inputs.count) inputs; give one tensor per input")
        }
        return try run([name: x], profile: profile, observe: observe)[0]
    }

    /// Executes one op on `inputs` with the float kernel `run` uses and returns its first
    /// output; for executors that run some ops themselves (the integer executor).
    public static func evaluate(_ op: Op, _ inputs: [Tensor]) throws -> Tensor {
        var a: [Tensor?] = inputs
        return try execute(op, &a)[0]
    }

    /// Executes one op on its arguments (absent optional inputs left out) and returns its
    /// outputs. Takes the first argument out of `a` when the kernel works in place, so it holds
    /// the only reference to its buffer; a tensor the caller still references elsewhere is
    /// copied first (copy on write), never overwritten.
    public static func execute(_ op: Op, _ a: inout [Tensor?]) throws -> [Tensor] {
        var arguments = KernelArguments(a)
        a = []
        do {
            return try op.runFloatKernel(&arguments)
        } catch let missing as KernelArguments.MissingInput {
            throw ModelPressError.internalError("\(op.name): missing input \(missing.index)")
        }
    }
}
