import TensorCore

/// The float32 CPU kernel of an op: one conformance per op, in `Engine/Ops/<Op>+Kernel.swift`.
public protocol FloatKernel: OpDefinition {
    /// Computes the op's outputs from its arguments (absent optional inputs left out). A
    /// kernel that works in place takes input 0 out of `arguments` (`take(0)`), so it holds
    /// the only reference to the buffer.
    func run(_ arguments: inout KernelArguments) throws -> [Tensor]
}

/// The inputs of one kernel call, by position.
public struct KernelArguments {
    /// A required input the node does not have (the executor names the op).
    public struct MissingInput: Error {
        /// The input's position.
        public let index: Int
    }

    /// The input tensors; an entry is `nil` once taken.
    var tensors: [Tensor?]

    /// Arguments `tensors` of one kernel call.
    public init(_ tensors: [Tensor?]) {
        self.tensors = tensors
    }

    /// The number of inputs.
    public var count: Int { tensors.count }

    /// Input `i`.
    public func input(_ i: Int) throws -> Tensor {
        guard i < tensors.count, let t = tensors[i] else { throw MissingInput(index: i) }
        return t
    }

    /// Input `i` if the node has it (optional inputs).
    public func optional(_ i: Int) -> Tensor? { i < tensors.count ? tensors[i] : nil }

    /// Input `i`, taken out of the arguments (in-place kernels).
    public mutating func take(_ i: Int) throws -> Tensor {
        let t = try input(i)
        tensors[i] = nil
        return t
    }

    /// Every input from `i` on (variadic ops).
    public func inputs(from i: Int) throws -> [Tensor] { try (i..<tensors.count).map(input) }
}

extension Op {
    /// Runs the op's float kernel on `arguments`, dispatched statically (no existential box
    /// per call: the executor calls this once per node per batch).
    public func runFloatKernel(_ arguments: inout KernelArguments) throws -> [Tensor] {
        switch self {
        case .conv2D(let op): try op.run(&arguments)
        case .convTranspose2D(let op): try op.run(&arguments)
        case .linear(let op): try op.run(&arguments)
        case .batchNormalization(let op): try op.run(&arguments)
        case .activation(let op): try op.run(&arguments)
        case .prelu(let op): try op.run(&arguments)
        case .softmax(let op): try op.run(&arguments)
        case .maxPool2D(let op): try op.run(&arguments)
        case .averagePool2D(let op): try op.run(&arguments)
        case .globalAveragePool(let op): try op.run(&arguments)
        case .globalMaxPool(let op): try op.run(&arguments)
        case .flatten(let op): try op.run(&arguments)
        case .reshape(let op): try op.run(&arguments)
        case .transpose(let op): try op.run(&arguments)
        case .elementwise(let op): try op.run(&arguments)
        case .concat(let op): try op.run(&arguments)
        case .pad(let op): try op.run(&arguments)
        case .slice(let op): try op.run(&arguments)
        case .upsampleNearest(let op): try op.run(&arguments)
        case .resizeBilinear(let op): try op.run(&arguments)
        case .identity(let op): try op.run(&arguments)
        case .split(let op): try op.run(&arguments)
        case .layerNormalization(let op): try op.run(&arguments)
        case .reduceMean(let op): try op.run(&arguments)
        case .tile(let op): try op.run(&arguments)
        case .embedding(let op): try op.run(&arguments)
        case .recurrent(let op): try op.run(&arguments)
        case .reverse(let op): try op.run(&arguments)
        case .stepMask(let op): try op.run(&arguments)
        case .matMul(let op): try op.run(&arguments)
        case .expandBatch(let op): try op.run(&arguments)
        }
    }
}
