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
    /// The op's name, for errors.
    let op: String
    /// The input tensors; an entry is `nil` once taken.
    var tensors: [Tensor?]

    /// Arguments `tensors` of op `op`.
    public init(op: String, _ tensors: [Tensor?]) {
        self.op = op
        self.tensors = tensors
    }

    /// The number of inputs.
    public var count: Int { tensors.count }

    /// Input `i`.
    public func input(_ i: Int) throws -> Tensor {
        guard i < tensors.count, let t = tensors[i] else { throw ModelPressError.internalError("\(op): missing input \(i)") }
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
    /// The op's float kernel.
    public var floatKernel: any FloatKernel {
        switch self {
        case .conv2D(let op): op
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
        case .identity(let op): op
        case .split(let op): op
        case .layerNormalization(let op): op
        }
    }
}
