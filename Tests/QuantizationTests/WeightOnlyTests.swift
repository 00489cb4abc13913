import Quantization
import TensorCore
import Testing

/// Block-wise weight-only quantization: per-block parameters worked by hand, the MSE search
/// against a brute-force sweep, block indexing, and a Dense layer whose input dimension the
/// block size does not divide.
@Suite("weight-only blocks")
struct WeightOnlyTests {
    @Test("symmetric int4, round to nearest: max |w| maps to 7")
    func symmetricRTN() throws {
        let (scale, zero) = try #require(BlockQuantizer.parameters([0.7, -0.35, 0.1, 0], type: .int4, search: .rtn))
        #expect(abs(scale - 0.1) < 1e-7 && zero == 0)
        let q = TensorQuantization(scales: [scale], zeroPoints: [zero], axis: nil, type: .int4)
        #expect([Float(0.7), -0.35, 0.1, 0].map { q.quantize($0) } == [7, -4, 1, 0])  // −3.5 rounds to even
    }

    @Test("asymmetric uint4, round to nearest: lo…hi maps to 0…15")
    func asymmetricRTN() throws {
        let (scale, zero) = try #require(BlockQuantizer.parameters([-1, 0.5, 2], type: .uint4, search: .rtn))
        #expect(abs(scale - 0.2) < 1e-7 && zero == 5)
        let q = TensorQuantization(scales: [scale], zeroPoints: [zero], axis: nil, type: .uint4)
        #expect([Float(-1), 0.5, 2].map { q.quantize($0) } == [0, 7, 15])  // 2.5 rounds to even
    }

    @Test("MSE clipping is the best of the 16 clippings, and beats the full range on an outlier")
    func mseSearch() throws {
        let spread: [Float] = (0..<24).map { i in Float(i % 7) * 0.02 - 0.06 }
        let block: [Float] = [0.05, -0.1, 0.12, 0.08, -0.03, 0.11, -0.09, 1.0] + spread
        func error(_ scale: Float) -> Float {
            block.reduce(0) { e, x in
                let q = min(7, max(-8, (x / scale).rounded(.toNearestOrEven)))
                return e + (q * scale - x) * (q * scale - x)
            }
        }
        let (rtn, _) = try #require(BlockQuantizer.parameters(block, type: .int4, search: .rtn))
        let (mse, _) = try #require(BlockQuantizer.parameters(block, type: .int4, search: .mse))
        let brute = BlockQuantizer.clippings.map { error($0 * 1.0 / 7) }.min() ?? .infinity
        #expect(abs(error(mse) - brute) < 1e-9)
        #expect(error(mse) < error(rtn))
        #expect(BlockQuantizer.clippings.count == 16 && BlockQuantizer.clippings.last == 0.55)
    }

    @Test("block indexing: blocks of 2 along axis 0 of a 5×3 weight, the last block shorter")
    func indexing() {
        let q = TensorQuantization(scales: .init(repeating: 1, count: 9), zeroPoints: .init(repeating: 0, count: 9), axis: 0, type: .int4, blockSize: 2)
        #expect(q.parameterShape(for: [5, 3]) == [3, 3])
        let index = ParameterIndexing(q, shape: [5, 3])
        let expected: [Int] = [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8]
        #expect((0..<15).map { index($0) } == expected)
        let rows = TensorQuantization(scales: .init(repeating: 1, count: 6), zeroPoints: .init(repeating: 0, count: 6), axis: 1, type: .int4, blockSize: 2)
        let byRow = ParameterIndexing(rows, shape: [3, 3])
        let expectedRows: [Int] = [0, 0, 1, 2, 2, 3, 4, 4, 5]
        #expect((0..<9).map { byRow($0) } == expectedRows)
    }

    @Test("a Dense layer with K = 40 and blocks of 32: two blocks per column, the weight holds what its integers encode")
    func denseLayer() throws {
        var g = Graph(name: "dense")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 40]))
        let w: [Float] = (0..<120).map { i in Float((i * 37) % 101) / 50 - 1 }
        try g.addInitializer("w", try Tensor(shape: [40, 3], storage: w))
        try g.append(Node(name: "d", op: .linear, inputs: ["x", "w"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 3])]
        for scaleType in WeightOnlyOptions.ScaleType.allCases {
            var options = WeightOnlyOptions()
            options.scaleType = scaleType
            let half = scaleType == .float16
            let (q, layers) = try WeightOnlyQuantizer.quantize(g, options: options)
            let a = try #require(q.quantization["w"])
            #expect(a.blockSize == 32 && a.axis == 0 && a.scales.count == 6 && a.type == .int4 && a.halfScales == half)
            // Column 0, second block: rows 32…39 only.
            let tail = (32..<40).map { w[$0 * 3] }
            let (scale, _) = try #require(BlockQuantizer.parameters(tail, type: .int4, search: .mse, halfScales: half))
            #expect(a.scales[3] == scale && (!half || Float(Float16(scale)) == scale))
            let stored = try #require(q.initializers["w"]).storage
            for row in 32..<40 {
                let value = scale * Float(a.quantize(w[row * 3], channel: 3))
                #expect(stored[row * 3] == (half ? Float(Float16(value)) : value))
            }
            #expect(layers.map(\.bytes) == [60 + (half ? 12 : 24)])  // 120 codes in 60 bytes, 6 scales of 2 or 4 bytes
        }
    }

    @Test("float16 scales: a block of tiny weights gets float16's smallest scale; a layer with a scale beyond 65504 keeps float32 scales")
    func halfScaleRange() throws {
        let (tiny, _) = try #require(BlockQuantizer.parameters([1e-9, -3e-9], type: .int4, search: .rtn, halfScales: true))
        #expect(tiny == 0x1p-24)
        #expect(BlockQuantizer.parameters([7e6, 1], type: .int4, search: .rtn, halfScales: true) == nil)  // 10⁶ per step
        let weight = try Tensor(shape: [4, 2], storage: [7e6, 0.5, 1, 0.25, -2, 0.1, 3, 0.7])
        let q = BlockQuantizer.annotation(weight, axis: 0, blockSize: 2, type: .int4, search: .rtn, halfScales: true)
        #expect(!q.halfScales && q.scales[0] == 1e6)
        let fits = BlockQuantizer.annotation(weight, axis: 1, blockSize: 2, type: .int4, search: .rtn, halfScales: true)
        #expect(!fits.halfScales)  // the block holding 7e6 is in this layout too
        let small = try Tensor(shape: [2, 2], storage: [0.3, 0.5, -0.7, 0.25])
        let h = BlockQuantizer.annotation(small, axis: 0, blockSize: 2, type: .int4, search: .rtn, halfScales: true)
        #expect(h.halfScales && h.scales == [Float(Float16(Float(0.7) / 7)), Float(Float16(Float(0.5) / 7))])
    }
}
