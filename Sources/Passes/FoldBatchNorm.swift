import TensorCore

/// Folds an inference BatchNormalization into the Conv or Linear that feeds it:
/// with `a = scale / sqrt(variance + ε)`, weights of output channel `c` become `W·a[c]` and
/// the bias `(b − mean)·a + beta`. Skipped (BatchNormalization kept) when the producer's
/// output has other readers, its weights are shared, or a Linear's output is not N×M.
public struct FoldBatchNorm: GraphPass {
    /// `fold-batchnorm`.
    public let name = "fold-batchnorm"

    /// The pass.
    public init() {}

    /// Folds every foldable BatchNormalization.
    public func run(_ graph: Graph) throws -> (Graph, PassReport) {
        var g = graph
        var report = PassReport(pass: name)
        var removed = Set<Int>()
        for i in g.nodes.indices {
            let bn = g.nodes[i]
            guard case .batchNormalization(let batchNorm) = bn.op else { continue }
            switch foldTarget(g, bn) {
            case .failure(let reason):
                report.skipped.append(.init(node: bn.name, reason: reason.description))
            case .success(let p):
                try fold(&g, bn: bn, into: p, epsilon: batchNorm.epsilon)
                removed.insert(i)
                report.changed.append("folded BatchNormalization '\(bn.name)' into \(g.nodes[p].op.name) '\(g.nodes[p].name)'")
            }
        }
        g.removeNodes(removed)
        g.removeUnreadInitializers()
        return (g, report)
    }

    /// The index of the node `bn` can fold into, or why it cannot.
    private func foldTarget(_ g: Graph, _ bn: Node) -> Result<Int, FoldRefusal> {
        guard let p = g.producer(of: bn.inputs[0]) else { return .failure("its input is a graph input") }
        let producer = g.nodes[p]
        guard let operands = producer.computeOperands else {
            return .failure("its input comes from \(producer.op.name) '\(producer.name)', not Conv/Linear")
        }
        if case .linear = producer.op, g.shapes[producer.output]?.count != 2 { return .failure("'\(producer.name)' output is not N×M") }
        // Each output channel must be one slice of the weight along its channel axis (not so
        // for a grouped ConvTranspose, whose axis 1 holds a group's channels).
        let outputChannels = g.shapes[producer.output].flatMap { $0.count > 1 ? $0[1] : nil }
        guard let w = g.initializers[operands.weight], operands.channelAxis < w.rank, w.shape[operands.channelAxis] == outputChannels else {
            return .failure("'\(producer.name)' weights do not hold one slice per output channel")
        }
        guard g.readCount(of: producer.output) == 1, !g.isOutput(producer.output) else {
            return .failure("'\(producer.name)' output has other readers")
        }
        let weights = producer.inputs[1]
        guard g.initializers[weights] != nil, g.readCount(of: weights) == 1 else {
            return .failure("'\(producer.name)' weights are not a constant of its own")
        }
        if let bias = producer.bias {
            guard g.initializers[bias] != nil, g.readCount(of: bias) == 1 else {
                return .failure("'\(producer.name)' bias is not a constant of its own")
            }
        }
        guard bn.inputs[1...4].allSatisfy({ g.initializers[$0] != nil }) else { return .failure("its parameters are not constants") }
        return .success(p)
    }

    private func fold(_ g: inout Graph, bn: Node, into p: Int, epsilon: Float) throws {
        let params = bn.inputs[1...4].compactMap { g.initializers[$0]?.storage }
        guard params.count == 4 else { throw ModelPressError.internalError("BatchNormalization '\(bn.name)' parameters vanished") }
        let (scale, beta, mean, variance) = (params[0], params[1], params[2], params[3])
        let a = (0..<scale.count).map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
        var producer = g.nodes[p]
        guard var w = g.initializers[producer.inputs[1]] else { throw ModelPressError.internalError("weights of '\(producer.name)' vanished") }
        let channels = a.count
        // Output channel c lies along the weight's channel axis: element i is in channel (i / inner) % channels.
        guard let axis = producer.computeOperands?.channelAxis, axis < w.rank, w.shape[axis] == channels else {
            throw ModelPressError.internalError("weights of '\(producer.name)' do not hold \(channels) output channels")
        }
        let inner = w.shape[(axis + 1)...].reduce(1, *)
        for i in 0..<w.count { w.storage[i] *= a[(i / inner) % channels] }
        g.initializers[producer.inputs[1]] = w
        let oldBias = producer.bias.flatMap { g.initializers[$0]?.storage }
        var bias = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let b0: Float = oldBias?[c] ?? 0
            bias[c] = (b0 - mean[c]) * a[c] + beta[c]
        }
        let biasTensor = try Tensor(shape: [channels], storage: bias)
        if let existing = producer.bias {
            g.initializers[existing] = biasTensor
        } else {
            let biasName = g.uniqueName(producer.name + "/bias")
            try g.addInitializer(biasName, biasTensor)
            producer.inputs = Array(producer.inputs.prefix(2)) + [biasName]
        }
        if g.isOutput(bn.output) {
            g.shapes[producer.output] = nil
            producer.output = bn.output
        } else {
            g.replaceReads(of: bn.output, with: producer.output)
        }
        g.nodes[p] = producer
    }
}

/// Why a pass left a node alone (a message for the report).
struct FoldRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ value: String) { description = value }
}

extension Result where Failure == FoldRefusal {
    static func failure(_ message: String) -> Result { .failure(FoldRefusal(message)) }
}
