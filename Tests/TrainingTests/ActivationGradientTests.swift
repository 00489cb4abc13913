import TensorCore
import Testing
import Training
import _TestSupport

/// Finite-difference checks of every `Activation` case and of softmax.
@Suite struct ActivationGradientTests {
    static let cases: [(Activation, [Float])] = [
        (.relu, [0]), (.sigmoid, []), (.tanh, []), (.softplus, []), (.softsign, [0]), (.selu, [0]), (.swish, []),
        (.hardSwish, [-3, 3]), (.exponential, []), (.negate, []), (.clip(min: -0.5, max: 0.5), [-0.5, 0.5]), (.leakyRelu(alpha: 0.2), [0]),
        (.elu(alpha: 1.3), [0]), (.hardSigmoid(alpha: 0.2, beta: 0.5), [-2.5, 2.5]), (.hardSigmoid(alpha: 1 / 6, beta: 0.5), [-3, 3]),
        (.gelu(approximate: false), []), (.gelu(approximate: true), []),
        (.thresholdedLinear(threshold: 0.5, negativeSlope: 0.1, maxValue: 2), [0, 0.5, 2]),
        (.thresholdedLinear(threshold: 0, negativeSlope: 0, maxValue: nil), [0]),
    ]

    @Test(arguments: cases.indices)
    func activation(_ index: Int) throws {
        let (f, kinks) = Self.cases[index]
        let g = try singleNodeGraph(.activation(f), inputShape: [4, 12])
        // ±4 exercises the saturating branches (hard sigmoid/swish, clip, elu's exponential side).
        try checkGradients(g, input: try awayFromKinks([4, 12], kinks: kinks, scale: 4), h: 1e-2)
    }

    @Test("square root and reciprocal on x in [0.5, 4.5]", arguments: [Activation.squareRoot, .reciprocal])
    func positiveDomain(_ f: Activation) throws {
        let g = try singleNodeGraph(.activation(f), inputShape: [4, 12])
        var x = random([4, 12], seed: 3)
        x.storage = x.storage.map { abs($0) * 4 + 0.5 }
        try checkGradients(g, input: x, h: 1e-2)
    }

    @Test func softmaxOverClasses() throws {
        try checkGradients(try singleNodeGraph(.softmax(axis: 1), inputShape: [3, 7]), input: random([3, 7], seed: 1))
    }

    @Test func softmaxOverChannels() throws {
        try checkGradients(try singleNodeGraph(.softmax(axis: 1), inputShape: [2, 4, 2, 3]), input: random([2, 4, 2, 3], seed: 2))
    }
}

/// Finite-difference checks of ReduceMean and Tile.
@Suite struct ReduceMeanTileGradientTests {
    @Test(arguments: [[1], [2, 3]])
    func reduceMean(_ axes: [Int]) throws {
        for keep in [true, false] {
            let g = try singleNodeGraph(.reduceMean(ReduceMean(axes: axes, keepDims: keep)), inputShape: [2, 3, 4, 2])
            try checkGradients(g, input: random([2, 3, 4, 2], seed: 6))
        }
    }

    @Test func tile() throws {
        try checkGradients(try singleNodeGraph(.tile(Tile([1, 2, 1, 3])), inputShape: [2, 3, 2, 2]), input: random([2, 3, 2, 2], seed: 7))
    }
}

/// Finite-difference checks of ConvTranspose (strides, dilation, crop, output padding, groups)
/// and bilinear Resize (every coordinate rule).
@Suite struct ConvTransposeResizeGradientTests {
    static let transposes: [ConvTranspose2D] = [
        ConvTranspose2D(kernel: Size2D(3, 3), strides: Size2D(2, 2), pads: Padding2D(top: 1, left: 1, bottom: 0, right: 1), outputPadding: Size2D(1, 0)),
        ConvTranspose2D(kernel: Size2D(2, 3), strides: Size2D(1, 2), dilations: Size2D(2, 1), group: 2),
    ]

    @Test(arguments: transposes)
    func convTranspose(_ op: ConvTranspose2D) throws {
        // Weights C×(O/group)×kh×kw: 3 output channels per group.
        let weights = [("w", random([4, 3, op.kernel.height, op.kernel.width], seed: 8)), ("b", random([3 * op.group], seed: 9))]
        let g = try singleNodeGraph(.convTranspose2D(op), inputShape: [2, 4, 3, 3], weights: weights)
        try checkGradients(g, input: random([2, 4, 3, 3], seed: 10))
    }

    @Test(arguments: ResizeBilinear.Coordinates.allCases)
    func resizeBilinear(_ coordinates: ResizeBilinear.Coordinates) throws {
        let g = try singleNodeGraph(.resizeBilinear(ResizeBilinear(size: Size2D(5, 2), coordinates: coordinates)), inputShape: [2, 2, 3, 4])
        try checkGradients(g, input: random([2, 2, 3, 4], seed: 11))
    }
}

/// Finite-difference check of the embedding table's gradient (ids have none).
@Suite struct EmbeddingGradientTests {
    @Test func table() throws {
        let ids = try Tensor(shape: [2, 5], storage: [0, 3, 3, 6, 1, 2, 6, 0, 5, 3])
        let g = try singleNodeGraph(.embedding(Embedding()), inputShape: [2, 5], weights: [("table", random([7, 3], seed: 12))])
        try checkGradients(g, input: ids, checkInput: false)
    }
}
