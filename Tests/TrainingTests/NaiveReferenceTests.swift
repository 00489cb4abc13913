import TensorCore
import Testing
import Training
import _TestSupport

/// The sgemm backward kernels agree with their plain-loop definitions.
@Suite struct NaiveReferenceTests {
    @Test func linearBackwardMatchesDefinition() throws {
        let x = random([7, 5], seed: 1), w = random([5, 3], seed: 2), dy = random([7, 3], seed: 3)
        let fast = try linearBackward(x: x, weights: w, dy: dy), naive = try NaiveBackward.linear(x: x, weights: w, dy: dy)
        #expect(maxRelativeDifference(fast.dx.storage, naive.dx.storage) < 1e-5)
        #expect(maxRelativeDifference(fast.dw.storage, naive.dw.storage) < 1e-5)
        #expect(maxRelativeDifference(fast.db.storage, naive.db.storage) < 1e-5)
    }

    @Test(arguments: [
        Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1)),
        Conv2DAttributes(kernel: Size2D(3, 2), strides: Size2D(2, 1), dilations: Size2D(2, 1), pads: Padding2D(top: 1, left: 0, bottom: 2, right: 1), group: 2),
        Conv2DAttributes(kernel: Size2D(3, 3), strides: Size2D(2, 2), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1), group: 4),
    ])
    func conv2DBackwardMatchesDefinition(_ a: Conv2DAttributes) throws {
        let x = random([2, 4, 7, 6], seed: 1), w = random([8, 4 / a.group, a.kernel.height, a.kernel.width], seed: 2)
        let y = try NaiveKernelsShim.outputShape(x.shape, w.shape, a)
        let dy = random(y, seed: 3)
        let fast = try conv2DBackward(x: x, weights: w, dy: dy, attributes: a)
        let naive = try NaiveBackward.conv2D(x: x, weights: w, dy: dy, attributes: a)
        #expect(maxRelativeDifference(fast.dx.storage, naive.dx.storage) < 1e-5)
        #expect(maxRelativeDifference(fast.dw.storage, naive.dw.storage) < 1e-5)
        #expect(maxRelativeDifference(fast.db.storage, naive.db.storage) < 1e-5)
    }
}

/// Output shape of a convolution (through shape inference).
enum NaiveKernelsShim {
    static func outputShape(_ x: [Int], _ w: [Int], _ a: Conv2DAttributes) throws -> [Int] {
        try ShapeInference.outputShape(of: .conv2D(a), inputs: [x, w], node: "test")
    }
}
