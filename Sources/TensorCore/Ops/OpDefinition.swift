/// What one op of the graph IR means, decided in one place: every op type conforms, and a
/// requirement left out does not compile (there are no default implementations).
///
/// Modules add their own per-op protocols (float kernel in Engine, backward in Training, ONNX
/// lowering and import in ONNXIO), one conformance per op in the op's own file, and dispatch
/// through one exhaustive `switch` over `Op` whose arms are one line each.
public protocol OpDefinition: Hashable, Sendable {
    /// A short name for tables (ONNX-like spelling).
    var name: String { get }
    /// The inputs it reads, by role, in order.
    var signature: OpSignature { get }
    /// Output shapes (batch first, `dynamicBatch` flowing through) for the given input shapes;
    /// absent optional inputs are left out. Throws `check.fail(...)` when they do not fit.
    func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]]
    /// Multiply-accumulates for one sample, given the input and output shapes.
    func macs(inputs: [[Int]], outputs: [[Int]]) -> Int
    /// Input positions whose initializers training updates (weights, biases, scales).
    var trainableInputs: [Int] { get }
    /// How channel pruning treats the channels of its inputs and outputs, given the input shapes.
    func channelRule(inputs: [[Int]]) -> ChannelRule
    /// How static quantization treats it.
    var quantizationRole: QuantizationRole { get }
    /// Whether it computes in float16 under a float16 precision plan.
    var halfPrecision: HalfPrecisionRule { get }
    /// The weight weight-only block quantization stores in blocks, and the axis its blocks run
    /// along (the input dimension); nil when it has none.
    var blockQuantizedWeight: BlockQuantizedWeight? { get }
}

/// What an input of an op is for: optional inputs are looked up by role, never by position.
public enum InputRole: String, Hashable, Sendable {
    /// The data the op transforms (activations).
    case data
    /// A learned weight matrix or kernel.
    case weight
    /// An additive per-output bias.
    case bias
    /// A per-channel multiplier (normalization γ).
    case scale
    /// A per-channel offset (normalization β).
    case offset
    /// Running mean (batch normalization).
    case mean
    /// Running variance (batch normalization).
    case variance
    /// The negative slope of PRelu.
    case slope
    /// The recurrent weight matrix of a recurrent layer (applied to its state).
    case recurrentWeight
    /// The bias added to the recurrent product (a GRU that resets after it).
    case recurrentBias
    /// A step mask N×L (1 runs the step, 0 skips it), from `stepMask`.
    case mask
}

/// The inputs of an op: a fixed list of roles, optional ones last, or any number of data inputs.
public struct OpSignature: Hashable, Sendable {
    /// Roles of the required inputs, in order.
    public var required: [InputRole]
    /// Roles of the optional inputs that may follow, in order.
    public var optional: [InputRole]
    /// Whether any number (≥ `required.count`) of data inputs is accepted (Add, Concat).
    public var variadic: Bool

    /// A signature of required roles followed by optional ones.
    public init(_ required: [InputRole], optional: [InputRole] = [], variadic: Bool = false) {
        self.required = required
        self.optional = optional
        self.variadic = variadic
    }

    /// One data input, one output.
    public static let unary = OpSignature([.data])
    /// One or more data inputs (elementwise with broadcasting, concatenation).
    public static let variadic = OpSignature([.data], variadic: true)

    /// The position of `role` among the inputs, if the op has such an input.
    public func position(of role: InputRole) -> Int? {
        if let i = required.firstIndex(of: role) { return i }
        return optional.firstIndex(of: role).map { required.count + $0 }
    }

    /// Whether `count` inputs fit the signature.
    public func accepts(_ count: Int) -> Bool {
        variadic ? count >= required.count : (required.count...(required.count + optional.count)).contains(count)
    }
}

/// Builds the shape-inference error of one node; passed to `OpDefinition.outputShapes`.
public struct ShapeCheck: Sendable {
    /// The node checked.
    public var node: String
    /// Its op's name.
    public var op: String

    /// A shape check for node `node` of op `op`.
    public init(node: String, op: String) {
        self.node = node
        self.op = op
    }

    /// The error for inputs that do not fit the op.
    public func fail(_ message: String) -> ModelPressError {
        .invalidModel(
            file: "", location: "node '\(node)' (\(op))", message: message,
            hint: "the layer configuration and its input shapes do not fit together")
    }

    /// `inputs[i]`, or the error that it is missing.
    public func input(_ inputs: [[Int]], _ i: Int) throws -> [Int] {
        guard i < inputs.count else { throw fail("missing input \(i)") }
        return inputs[i]
    }

    /// Output length of a convolution/pooling window sweep along one axis.
    public func window(_ size: Int, kernel: Int, stride: Int, dilation: Int = 1, padding: Int) throws -> Int {
        guard kernel >= 1, stride >= 1, dilation >= 1, padding >= 0 else { throw fail("invalid kernel/stride/dilation/padding") }
        guard let span = Checked.multiply(kernel - 1, dilation), let padded = Checked.add(size, padding) else {
            throw fail("window arithmetic overflows")
        }
        guard padded >= span + 1 else { throw fail("window \(span + 1) larger than padded input \(padded)") }
        return (padded - span - 1) / stride + 1
    }
}
