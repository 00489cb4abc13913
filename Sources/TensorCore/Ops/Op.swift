/// The operations of the graph IR: typed, close to ONNX semantics, one case per op type whose
/// payload is its definition (`OpDefinition`, one file each in `TensorCore/Ops`). Shapes
/// include the batch dimension first; image tensors are NCHW.
///
/// Every module that treats ops differently dispatches with one exhaustive `switch` whose
/// arms are one line each (`case .conv2D(let op): op`), so a new case fails to build until
/// every module has decided it. No `switch` over `Op` has a `default:` (a test enforces it).
public enum Op: Hashable, Sendable {
    /// 2-D convolution.
    case conv2D(Conv2DAttributes)
    /// Transposed 2-D convolution.
    case convTranspose2D(ConvTranspose2D)
    /// Matrix product on the last axis.
    case linear(Linear)
    /// Inference batch normalization over axis 1.
    case batchNormalization(BatchNormalization)
    /// Elementwise activation.
    case activation(Activation)
    /// Parametric ReLU.
    case prelu(PRelu)
    /// Softmax along one axis.
    case softmax(Softmax)
    /// 2-D max pooling.
    case maxPool2D(MaxPool2D)
    /// 2-D average pooling.
    case averagePool2D(AveragePool2D)
    /// Spatial mean.
    case globalAveragePool(GlobalAveragePool)
    /// Spatial maximum.
    case globalMaxPool(GlobalMaxPool)
    /// Merge all non-batch axes.
    case flatten(Flatten)
    /// Row-major reshape.
    case reshape(Reshape)
    /// Axis permutation.
    case transpose(Transpose)
    /// Elementwise arithmetic with broadcasting.
    case elementwise(ElementwiseOp)
    /// Concatenation.
    case concat(Concat)
    /// Zero padding.
    case pad(Pad)
    /// Crop.
    case slice(Slice)
    /// Nearest-neighbour upsampling.
    case upsampleNearest(UpsampleNearest)
    /// Bilinear resize of the spatial axes.
    case resizeBilinear(ResizeBilinear)
    /// Copy.
    case identity(Identity)
    /// Split into several outputs.
    case split(Split)
    /// Layer normalization over trailing axes.
    case layerNormalization(LayerNormalization)
    /// Mean over non-batch axes.
    case reduceMean(ReduceMean)
    /// Repetition along non-batch axes.
    case tile(Tile)
    /// Table lookup by integer ids.
    case embedding(Embedding)
    /// A recurrent layer (SimpleRNN, LSTM, GRU) in one direction.
    case recurrent(Recurrent)
    /// Reversal along one axis.
    case reverse(Reverse)
    /// The Keras mask of a sequence's steps (Embedding `mask_zero`, Masking).
    case stepMask(StepMask)
    /// Product of two activations over their last two axes.
    case matMul(MatMul)
    /// A constant repeated over the batch.
    case expandBatch(ExpandBatch)

    /// The op's definition: shapes, MACs, trainable inputs, channel and quantization rules.
    public var definition: any OpDefinition {
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

    /// A short name for tables (ONNX-like spelling).
    public var name: String { definition.name }
}

// Spellings for building ops, so call sites read like the ONNX attributes.
extension Op {
    /// `.linear(Linear())`.
    public static var linear: Op { .linear(Linear()) }
    /// `.prelu(PRelu())`.
    public static var prelu: Op { .prelu(PRelu()) }
    /// `.globalAveragePool(GlobalAveragePool())`.
    public static var globalAveragePool: Op { .globalAveragePool(GlobalAveragePool()) }
    /// `.globalMaxPool(GlobalMaxPool())`.
    public static var globalMaxPool: Op { .globalMaxPool(GlobalMaxPool()) }
    /// `.flatten(Flatten())`.
    public static var flatten: Op { .flatten(Flatten()) }
    /// `.identity(Identity())`.
    public static var identity: Op { .identity(Identity()) }
    /// Batch normalization with `epsilon`.
    public static func batchNormalization(epsilon: Float) -> Op { .batchNormalization(BatchNormalization(epsilon: epsilon)) }
    /// Softmax along `axis`.
    public static func softmax(axis: Int) -> Op { .softmax(Softmax(axis: axis)) }
    /// Max pooling over `window`.
    public static func maxPool2D(_ window: Pool2DAttributes) -> Op { .maxPool2D(MaxPool2D(window)) }
    /// Average pooling over `window`.
    public static func averagePool2D(_ window: Pool2DAttributes) -> Op { .averagePool2D(AveragePool2D(window)) }
    /// Reshape to `N×shape`.
    public static func reshape(_ shape: [Int]) -> Op { .reshape(Reshape(shape)) }
    /// Transpose by `perm`.
    public static func transpose(_ perm: [Int]) -> Op { .transpose(Transpose(perm)) }
    /// Concatenation along `axis`.
    public static func concat(axis: Int) -> Op { .concat(Concat(axis: axis)) }
    /// Zero padding by `pads`.
    public static func pad(_ pads: [Int]) -> Op { .pad(Pad(pads)) }
    /// A crop to `[begin, end)`.
    public static func slice(begin: [Int], end: [Int]) -> Op { .slice(Slice(begin: begin, end: end)) }
    /// Nearest-neighbour upsampling by `scales`.
    public static func upsampleNearest(_ scales: [Int]) -> Op { .upsampleNearest(UpsampleNearest(scales)) }
}
