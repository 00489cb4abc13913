/// Attributes of a 2-D convolution over NCHW input with OIHW weights.
public struct Conv2DAttributes: Equatable, Hashable, Sendable {
    /// Kernel height and width.
    public var kernel: [Int]
    /// Vertical and horizontal stride.
    public var strides: [Int]
    /// Vertical and horizontal dilation.
    public var dilations: [Int]
    /// Zero padding `[top, left, bottom, right]` (ONNX order: begins, then ends).
    public var pads: [Int]
    /// Number of groups; `group == C_in` with `C_out = k·C_in` is a depthwise convolution.
    public var group: Int

    /// Attributes with the given values; `pads` default to none.
    public init(kernel: [Int], strides: [Int] = [1, 1], dilations: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], group: Int = 1) {
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.pads = pads
        self.group = group
    }
}

/// Attributes of 2-D max / average pooling over NCHW input.
public struct Pool2DAttributes: Equatable, Hashable, Sendable {
    /// Window height and width.
    public var kernel: [Int]
    /// Vertical and horizontal stride.
    public var strides: [Int]
    /// Padding `[top, left, bottom, right]`; padded cells never count (max ignores them,
    /// average divides by the number of real cells, as Keras and ONNX `count_include_pad=0` do).
    public var pads: [Int]

    /// Attributes with the given values.
    public init(kernel: [Int], strides: [Int], pads: [Int] = [0, 0, 0, 0]) {
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
    }
}

/// Variadic elementwise operations with numpy broadcasting.
public enum ElementwiseOp: String, Equatable, Hashable, Sendable, CaseIterable {
    case add, subtract, multiply, divide, maximum, minimum, mean
}

/// The operations of the graph IR: typed, close to ONNX semantics. Shapes include the batch
/// dimension first; image tensors are NCHW.
public enum Op: Equatable, Hashable, Sendable {
    /// `[x N×C×H×W, w O×(C/group)×kh×kw, b? O] → N×O×OH×OW`
    case conv2D(Conv2DAttributes)
    /// Matrix product on the last axis: `[x …×K, w K×M, b? M] → …×M`
    case linear
    /// Inference batch normalization over axis 1: `[x N×C×…, scale C, bias C, mean C, variance C]`
    case batchNormalization(epsilon: Float)
    /// Elementwise activation.
    case activation(Activation)
    /// `x if x ≥ 0 else slope · x`: `[x, slope]`, slope broadcast to x (no batch axis).
    case prelu
    /// Softmax along `axis` (non-negative).
    case softmax(axis: Int)
    /// 2-D max pooling (NCHW).
    case maxPool2D(Pool2DAttributes)
    /// 2-D average pooling (NCHW), padded cells excluded from the mean.
    case averagePool2D(Pool2DAttributes)
    /// `N×C×H×W → N×C×1×1` mean.
    case globalAveragePool
    /// `N×C×H×W → N×C×1×1` maximum.
    case globalMaxPool
    /// `N×d1×…×dk → N×(d1·…·dk)`, row-major.
    case flatten
    /// Row-major reshape to `N×shape` (the batch dimension is kept).
    case reshape([Int])
    /// Axis permutation over all axes including batch: output axis i is input axis `perm[i]`.
    case transpose([Int])
    /// Elementwise op over all inputs, numpy broadcasting (`subtract`, `divide`: two inputs).
    case elementwise(ElementwiseOp)
    /// Concatenation along `axis` (non-negative, never 0).
    case concat(axis: Int)
    /// Zero padding `[begin_0, …, begin_{r-1}, end_0, …, end_{r-1}]` over all axes.
    case pad([Int])
    /// Crop to `[begin, end)` on every axis (end exclusive; batch axis untouched).
    case slice(begin: [Int], end: [Int])
    /// Nearest-neighbour upsampling by an integer factor per axis (all axes).
    case upsampleNearest([Int])
    /// Copies its input.
    case identity

    /// A short name for tables (ONNX-like spelling).
    public var name: String {
        switch self {
        case .conv2D(let a): return a.group > 1 ? "Conv(g=\(a.group))" : "Conv"
        case .linear: return "Linear"
        case .batchNormalization: return "BatchNormalization"
        case .activation(let a): return "Activation(\(a.shortName))"
        case .prelu: return "PRelu"
        case .softmax: return "Softmax"
        case .maxPool2D: return "MaxPool"
        case .averagePool2D: return "AveragePool"
        case .globalAveragePool: return "GlobalAveragePool"
        case .globalMaxPool: return "GlobalMaxPool"
        case .flatten: return "Flatten"
        case .reshape: return "Reshape"
        case .transpose: return "Transpose"
        case .elementwise(let e): return e.rawValue.prefix(1).uppercased() + e.rawValue.dropFirst()
        case .concat: return "Concat"
        case .pad: return "Pad"
        case .slice: return "Slice"
        case .upsampleNearest: return "Upsample"
        case .identity: return "Identity"
        }
    }
}

extension Activation {
    /// A short name for tables.
    public var shortName: String {
        switch self {
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softplus: return "softplus"
        case .softsign: return "softsign"
        case .selu: return "selu"
        case .swish: return "swish"
        case .hardSwish: return "hard_swish"
        case .exponential: return "exp"
        case .clip(let lo, let hi): return "clip[\(lo),\(hi)]"
        case .leakyRelu: return "leaky_relu"
        case .elu: return "elu"
        case .hardSigmoid: return "hard_sigmoid"
        case .gelu(let approximate): return approximate ? "gelu_tanh" : "gelu"
        case .thresholdedLinear: return "relu*"
        }
    }
}
