import TensorCore
import Testing
import _TestSupport

@testable import Engine

/// One convolution configuration: input N×C×H×W, O filters, attributes, with or without bias.
struct ConvCase: Sendable, CustomTestStringConvertible {
    var input: [Int]
    var filters: Int
    var attributes: Conv2DAttributes
    var bias: Bool

    var testDescription: String {
        let a = attributes
        return "x\(input) O=\(filters) k\(a.kernel) s\(a.strides) d\(a.dilations) p\(a.pads) g=\(a.group)\(bias ? " +bias" : "")"
    }

    /// A deterministic seed per configuration.
    var seed: UInt64 { testDescription.utf8.reduce(5381) { $0 &* 33 &+ UInt64($1) } }

    /// Random input, OIHW weights and (optionally) bias for this configuration.
    func operands() -> (x: Tensor, w: Tensor, b: Tensor?) {
        var generator = SeededGenerator(seed: seed)
        let a = attributes
        let x = randomTensor(input, &generator)
        let w = randomTensor([filters, input[1] / a.group, a.kernel.height, a.kernel.width], &generator)
        return (x, w, bias ? randomTensor([filters], &generator) : nil)
    }
}

/// `ConvCase` shorthand: `x` is N×C×H×W.
private func conv(
    _ x: [Int], o: Int, k: [Int], s: [Int] = [1, 1], d: [Int] = [1, 1], p: [Int] = [0, 0, 0, 0],
    g: Int = 1, bias: Bool = true
) -> ConvCase {
    ConvCase(input: x, filters: o, attributes: Conv2DAttributes(kernel: Size2D(k)!, strides: Size2D(s)!, dilations: Size2D(d)!, pads: Padding2D(p)!, group: g), bias: bias)
}

/// The fast `conv2D` (im2col + sgemm, 1×1 fast path, groups, depthwise) against
/// `NaiveKernels.conv2D`, within 1e-5 of the largest output magnitude.
@Suite("conv2D matches the naive definition")
struct ConvolutionTests {
    /// Batch 1 runs one image per GEMM; batch 5 (group 1, not 1×1 stride 1) runs the
    /// batched-im2col path.
    static let cases: [ConvCase] = [
        // 1×1: the pointwise fast path (stride 1, no pads, group 1), then 1×1 through im2col.
        conv([1, 3, 7, 5], o: 4, k: [1, 1]),
        conv([5, 3, 7, 5], o: 4, k: [1, 1], bias: false),
        conv([5, 3, 7, 6], o: 2, k: [1, 1], s: [2, 2]),
        conv([1, 3, 5, 4], o: 2, k: [1, 1], p: [1, 0, 0, 2]),
        // 3×3: strides 1/2/3, dilation 2, asymmetric pads, non-square.
        conv([1, 3, 8, 8], o: 4, k: [3, 3], p: [1, 1, 1, 1]),
        conv([5, 3, 8, 6], o: 4, k: [3, 3], p: [1, 1, 1, 1], bias: false),
        conv([5, 2, 9, 11], o: 3, k: [3, 3], s: [2, 2], p: [0, 1, 1, 0]),
        conv([1, 2, 10, 7], o: 3, k: [3, 3], s: [3, 3], p: [2, 1, 0, 2], bias: false),
        conv([5, 2, 7, 9], o: 3, k: [3, 3], d: [2, 2], p: [2, 2, 2, 2]),
        conv([1, 3, 13, 10], o: 2, k: [3, 3], s: [2, 2], d: [2, 2], p: [1, 0, 2, 3], bias: false),
        conv([5, 2, 11, 9], o: 2, k: [3, 3], s: [2, 3], d: [2, 1], p: [1, 2, 0, 1]),
        conv([5, 1, 8, 8], o: 3, k: [3, 3], p: [1, 1, 1, 1]),
        // 5×5, including a kernel larger than the unpadded input.
        conv([5, 2, 9, 8], o: 3, k: [5, 5], p: [2, 2, 2, 2]),
        conv([1, 2, 12, 11], o: 2, k: [5, 5], s: [2, 2], d: [2, 2], p: [0, 3, 1, 0], bias: false),
        conv([1, 2, 3, 4], o: 2, k: [5, 5], p: [2, 2, 2, 2]),
        // 1×3.
        conv([5, 3, 6, 9], o: 4, k: [1, 3], s: [1, 2], p: [0, 1, 0, 1]),
        conv([1, 2, 5, 12], o: 3, k: [1, 3], s: [1, 3], d: [1, 2], p: [0, 2, 0, 0], bias: false),
        // Groups 2 and 4.
        conv([1, 4, 7, 6], o: 6, k: [3, 3], p: [1, 1, 1, 1], g: 2),
        conv([5, 4, 7, 6], o: 6, k: [3, 3], s: [2, 1], p: [0, 1, 2, 1], g: 2, bias: false),
        conv([5, 8, 6, 9], o: 8, k: [3, 3], s: [2, 2], p: [1, 1, 0, 0], g: 4),
        conv([5, 4, 5, 5], o: 2, k: [1, 1], g: 2, bias: false),
        conv([1, 8, 12, 10], o: 4, k: [5, 5], d: [2, 1], p: [3, 2, 3, 2], g: 4),
    ]

    /// Depthwise: group == C, weights O×1×kh×kw with O = C (multiplier 1) or 2·C.
    static let depthwise: [ConvCase] = [
        conv([1, 6, 8, 7], o: 6, k: [3, 3], p: [1, 1, 1, 1], g: 6),
        conv([5, 4, 9, 8], o: 4, k: [3, 3], s: [2, 2], p: [0, 1, 1, 0], g: 4, bias: false),
        conv([5, 2, 6, 5], o: 2, k: [3, 3], s: [2, 1], d: [2, 2], p: [2, 0, 1, 3], g: 2),
        conv([5, 3, 10, 9], o: 6, k: [5, 5], d: [2, 2], p: [4, 4, 4, 4], g: 3),
        conv([1, 3, 7, 11], o: 6, k: [1, 3], s: [3, 3], p: [0, 1, 0, 1], g: 3, bias: false),
        conv([5, 2, 3, 4], o: 4, k: [5, 5], s: [1, 2], p: [2, 2, 2, 2], g: 2),
    ]

    @Test("conv2D ≈ NaiveKernels.conv2D", arguments: cases + depthwise)
    func matchesNaive(_ c: ConvCase) throws {
        let (x, w, b) = c.operands()
        let fast = try conv2D(x, weights: w, bias: b, attributes: c.attributes)
        let naive = try NaiveKernels.conv2D(x, weights: w, bias: b, attributes: c.attributes)
        expectClose(fast, naive, relative: 1e-5, c.testDescription)
    }

    @Test("depthwiseConv2D called directly ≈ NaiveKernels.conv2D", arguments: depthwise)
    func depthwiseMatchesNaive(_ c: ConvCase) throws {
        let (x, w, b) = c.operands()
        let fast = try depthwiseConv2D(x, weights: w, bias: b, attributes: c.attributes)
        let naive = try NaiveKernels.conv2D(x, weights: w, bias: b, attributes: c.attributes)
        expectClose(fast, naive, relative: 1e-5, c.testDescription)
    }

    @Test("images batched into GEMMs of 3 and 2, and one by one (3×3 and 1×1) ≈ NaiveKernels.conv2D")
    func chunkedBatch() throws {
        for c in [conv([5, 6, 7, 5], o: 4, k: [3, 3], p: [1, 1, 1, 1]), conv([5, 6, 7, 5], o: 4, k: [1, 1])] {
            let (x, w, b) = c.operands()
            let epilogue = ConvEpilogue(activation: .relu)
            let batched = try conv2D(x, weights: w, bias: b, attributes: c.attributes, epilogue: epilogue, imagesPerGEMM: 3)
            let perImage = try conv2D(x, weights: w, bias: b, attributes: c.attributes, epilogue: epilogue, imagesPerGEMM: 1)
            let naive = applyActivation(.relu, try NaiveKernels.conv2D(x, weights: w, bias: b, attributes: c.attributes))
            expectClose(batched, naive, relative: 1e-5, c.testDescription)
            expectClose(perImage, naive, relative: 1e-5, c.testDescription)
        }
    }

    @Test("hand-worked 3×3 convolution with padding and bias")
    func handWorked() throws {
        // x = 1…9 on a 3×3 grid, w = all ones, bias 0.5, pads 1: each output is the sum of
        // the 3×3 neighbourhood inside the image, plus 0.5.
        let x = try Tensor(shape: [1, 1, 3, 3], storage: (1...9).map(Float.init))
        let w = try Tensor(shape: [1, 1, 3, 3], repeating: 1)
        let b = try Tensor(shape: [1], storage: [0.5])
        let y = try conv2D(x, weights: w, bias: b, attributes: Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1)))
        expectValues(
            y, shape: [1, 1, 3, 3],
            [
                12.5, 21.5, 16.5,
                27.5, 45.5, 33.5,
                24.5, 39.5, 28.5,
            ])
    }
}
