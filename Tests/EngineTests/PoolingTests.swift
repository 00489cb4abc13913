import Engine
import TensorCore
import Testing
import _TestSupport

/// Max / average pooling against `NaiveKernels.pool2D` (padded cells excluded) and global
/// pooling against a direct mean / max.
@Suite("pooling matches its definition")
struct PoolingTests {
    /// (input N×C×H×W, attributes); strides ≠ kernel and asymmetric pads included.
    static let cases: [([Int], Pool2DAttributes)] = [
        ([2, 3, 8, 8], Pool2DAttributes(kernel: Size2D(2, 2), strides: Size2D(2, 2))),
        ([1, 3, 9, 7], Pool2DAttributes(kernel: Size2D(2, 2), strides: Size2D(2, 2))),
        ([2, 3, 9, 7], Pool2DAttributes(kernel: Size2D(3, 3), strides: Size2D(2, 2), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1))),
        ([1, 2, 6, 5], Pool2DAttributes(kernel: Size2D(2, 2), strides: .one, pads: Padding2D(top: 0, left: 1, bottom: 1, right: 0))),
        ([3, 2, 7, 10], Pool2DAttributes(kernel: Size2D(3, 2), strides: Size2D(1, 2), pads: Padding2D(top: 1, left: 0, bottom: 0, right: 1))),
        ([1, 4, 11, 9], Pool2DAttributes(kernel: Size2D(2, 2), strides: Size2D(3, 3))),
        ([2, 1, 5, 6], Pool2DAttributes(kernel: Size2D(3, 3), strides: .one, pads: Padding2D(top: 2, left: 2, bottom: 2, right: 2))),
        ([1, 2, 7, 7], Pool2DAttributes(kernel: Size2D(7, 7), strides: .one, pads: Padding2D(top: 3, left: 3, bottom: 3, right: 3))),
    ]

    @Test("pool2D (max and average) ≈ NaiveKernels.pool2D", arguments: cases, [true, false])
    func matchesNaive(_ c: ([Int], Pool2DAttributes), _ isMax: Bool) throws {
        let (shape, attributes) = c
        var generator = SeededGenerator(seed: UInt64(shape.reduce(1, *)))
        // Negative values too, so a padded cell counted as 0 would change the maximum.
        let x = randomTensor(shape, in: -2...1, &generator)
        let fast = try pool2D(x, attributes: attributes, max: isMax)
        let naive = try NaiveKernels.pool2D(x, attributes: attributes, max: isMax)
        expectClose(fast, naive, relative: 1e-6, "\(isMax ? "max" : "avg") x\(shape) \(attributes)")
    }

    @Test("hand-worked 2×2 stride-2 pooling with one padded row and column on each side")
    func handWorked() throws {
        // x = −1…−9 on a 3×3 grid; each window holds 1, 2, 2 or 4 real cells.
        let x = try Tensor(shape: [1, 1, 3, 3], storage: (1...9).map { -Float($0) })
        let a = Pool2DAttributes(kernel: Size2D(2, 2), strides: Size2D(2, 2), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1))
        // Windows: {−1}, {−2, −3}, {−4, −7}, {−5, −6, −8, −9}.
        expectValues(try pool2D(x, attributes: a, max: true), shape: [1, 1, 2, 2], [-1, -2, -4, -5])
        expectValues(try pool2D(x, attributes: a, max: false), shape: [1, 1, 2, 2], [-1, -2.5, -5.5, -7])
    }

    @Test("globalPool = mean / max over each H×W plane", arguments: [[2, 3, 5, 4], [1, 1, 1, 1], [3, 2, 7, 1]])
    func globalPooling(_ shape: [Int]) throws {
        var generator = SeededGenerator(seed: 11)
        let x = randomTensor(shape, &generator)
        let plane = shape[2] * shape[3]
        let planes = (0..<(shape[0] * shape[1])).map { Array(x.storage[($0 * plane)..<(($0 + 1) * plane)]) }
        let means = planes.map { Float($0.reduce(0.0) { $0 + Double($1) } / Double(plane)) }
        let maxima = planes.map { $0.max()! }
        let reference = { (v: [Float]) in try Tensor(shape: [shape[0], shape[1], 1, 1], storage: v) }
        expectClose(try globalPool(x, max: false), try reference(means), relative: 1e-6, "mean \(shape)")
        expectClose(try globalPool(x, max: true), try reference(maxima), relative: 0, "max \(shape)")
    }

    /// KNOWN BUG (fails today): with a pad ≥ kernel some window lies wholly in padding.
    /// `pool2D` then returns −inf (max) or 0/0 = NaN (average) for pad == kernel, and traps on
    /// `h0..<h1` / `w0..<w1` with an upper bound below the lower (Pooling.swift:19, 22, 24) for pad > kernel; `NaiveKernels.pool2D`
    /// traps too (`values.max()!`). `ShapeInference` accepts these attributes, so a model can
    /// reach the kernel with them; like ONNX Runtime ("Pad should be smaller than kernel"),
    /// they should be rejected there.
    @Test("pooling with a pad ≥ kernel is rejected before pool2D runs", arguments: [[2, 0, 0, 0], [0, 0, 0, 3]])
    func padNotSmallerThanKernelRejected(_ pads: [Int]) {
        for op in [{ Op.maxPool2D($0) }, { Op.averagePool2D($0) }] as [(Pool2DAttributes) -> Op] {
            let attributes = Pool2DAttributes(kernel: Size2D(2, 2), strides: .one, pads: Padding2D(pads)!)
            #expect(throws: ModelPressError.self, "\(op(attributes).name) pads \(pads)") {
                try ShapeInference.outputShape(of: op(attributes), inputs: [[1, 1, 3, 3]], node: "pool")
            }
        }
    }
}
