import Engine
import TensorCore

/// The backward pass of an op: one conformance per op, in `Training/Ops/<Op>+Backward.swift`.
protocol Differentiable: FloatKernel {
    /// Gradients for each input (`nil` where none flows), from the gradients of the outputs.
    func backward(_ step: BackwardStep) throws -> [Tensor?]
}

/// What one node's backward sees: its forward values (kept on the tape) and output gradients.
struct BackwardStep {
    /// The node.
    let node: Node
    /// Its index in the graph.
    let index: Int
    /// Gradient per output (`nil`: that output gets no gradient).
    let outputGradients: [Tensor?]
    /// The forward pass.
    let tape: Tape
    /// The graph.
    let graph: Graph

    /// The gradient of the only (first) output.
    var dy: Tensor {
        get throws {
            guard let g = outputGradients.first ?? nil else { throw ModelPressError.internalError("backward of node '\(node.name)': no output gradient") }
            return g
        }
    }

    /// Input `i` as the forward pass read it.
    func value(_ i: Int) throws -> Tensor {
        guard i < node.inputs.count, let t = tape.values[node.inputs[i]] ?? graph.initializers[node.inputs[i]] else {
            throw ModelPressError.internalError("backward of node '\(node.name)': input \(i) was not kept")
        }
        return t
    }

    /// Every input's forward value.
    func values() throws -> [Tensor] { try node.inputs.indices.map(value) }

    /// The first output as the forward pass wrote it.
    func output() throws -> Tensor {
        guard let t = tape.values[node.output] else { throw ModelPressError.internalError("backward of node '\(node.name)': output was not kept") }
        return t
    }

    /// Whether a dropout mask was applied to the output (the kept value is then not the op's own).
    var outputWasMasked: Bool { tape.masks[node.output] != nil }

    /// Whether the node has its optional bias input.
    var hasBias: Bool { node.bias != nil }
}

extension Op {
    /// The op's backward pass.
    var differentiable: any Differentiable {
        switch self {
        case .conv2D(let op): op
        case .convTranspose2D(let op): op
        case .linear(let op): op
        case .batchNormalization(let op): op
        case .activation(let op): op
        case .prelu(let op): op
        case .softmax(let op): op
        case .maxPool2D(let op): op
        case .averagePool2D(let op): op
        case .globalAveragePool(let op): op
        case .globalMaxPool(let op): op
        case .flatten(let op): op
        case .reshape(let op): op
        case .transpose(let op): op
        case .elementwise(let op): op
        case .concat(let op): op
        case .pad(let op): op
        case .slice(let op): op
        case .upsampleNearest(let op): op
        case .resizeBilinear(let op): op
        case .identity(let op): op
        case .split(let op): op
        case .layerNormalization(let op): op
        case .reduceMean(let op): op
        case .tile(let op): op
        case .embedding(let op): op
        case .recurrent(let op): op
        case .reverse(let op): op
        case .stepMask(let op): op
        case .matMul(let op): op
        case .expandBatch(let op): op
        }
    }
}
