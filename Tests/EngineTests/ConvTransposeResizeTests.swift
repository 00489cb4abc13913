import Engine
import TensorCore
import Testing
import _TestSupport

/// ConvTranspose and bilinear Resize against naive references written from their definitions
/// and hand-worked values.
@Suite struct ConvTransposeResizeTests {
    @Test("ConvTranspose equals the scatter definition out[ih·s − p + i·d] += w · x", arguments: [1, 2])
    func convTransposeScatter(_ group: Int) throws {
        var generator = SeededGenerator(seed: 12)
        let op = ConvTranspose2D(
            kernel: Size2D(3, 2), strides: Size2D(2, 3), dilations: Size2D(1, 2), pads: Padding2D(top: 1, left: 0, bottom: 2, right: 1),
            outputPadding: Size2D(1, 2), group: group)
        let x = randomTensor([2, 4, 3, 3], &generator), w = randomTensor([4, 3, 3, 2], &generator), b = randomTensor([3 * group], &generator)
        let y = try convTranspose2D(x, weights: w, bias: b, attributes: op)
        let (o, oh, ow) = (y.shape[1], y.shape[2], y.shape[3])
        #expect(y.shape == [2, 3 * group, (3 - 1) * 2 + 2 + 1 - 3 + 1, (3 - 1) * 3 + 3 - 1 + 2])
        var naive = [Double](repeating: 0, count: y.count)
        for n in 0..<2 { for oc in 0..<o { for r in 0..<oh { for c in 0..<ow { naive[((n * o + oc) * oh + r) * ow + c] = Double(b.storage[oc]) } } } }
        let cg = 4 / group, og = o / group
        for n in 0..<2 {
            for ci in 0..<4 {
                let groupIndex = ci / cg
                for k in 0..<og {
                    let oc = groupIndex * og + k
                    for ih in 0..<3 {
                        for iw in 0..<3 {
                            for i in 0..<3 {
                                for j in 0..<2 {
                                    let r = ih * 2 - 1 + i, c = iw * 3 - 0 + j * 2
                                    guard r >= 0, r < oh, c >= 0, c < ow else { continue }
                                    naive[((n * o + oc) * oh + r) * ow + c] +=
                                        Double(w.storage[((ci * og + k) * 3 + i) * 2 + j]) * Double(x.storage[((n * 4 + ci) * 3 + ih) * 3 + iw])
                                }
                            }
                        }
                    }
                }
            }
        }
        for (got, want) in zip(y.storage, naive) { #expect(abs(Double(got) - want) < 1e-5) }
    }

    @Test("ConvTranspose hand-worked: [1, 2] with kernel [1, 10], stride 2 is [1, 10, 2, 20]")
    func convTransposeByHand() throws {
        let y = try convTranspose2D(
            try Tensor(shape: [1, 1, 1, 2], storage: [1, 2]), weights: try Tensor(shape: [1, 1, 1, 2], storage: [1, 10]), bias: nil,
            attributes: ConvTranspose2D(kernel: Size2D(1, 2), strides: Size2D(1, 2)))
        #expect(y.shape == [1, 1, 1, 4] && y.storage == [1, 10, 2, 20])
    }

    @Test("Resize hand-worked: [1, 2] doubled is [1, 1.25, 1.75, 2] (half pixel), [1, 4/3, 5/3, 2] (align corners), [1, 1.5, 2, 2] (asymmetric)")
    func resizeByHand() throws {
        let x = try Tensor(shape: [1, 1, 1, 2], storage: [1, 2])
        let expected: [(ResizeBilinear.Coordinates, [Float])] = [
            (.halfPixel, [1, 1.25, 1.75, 2]), (.pytorchHalfPixel, [1, 1.25, 1.75, 2]), (.alignCorners, [1, 4.0 / 3, 5.0 / 3, 2]), (.asymmetric, [1, 1.5, 2, 2]),
        ]
        for (coordinates, values) in expected {
            let y = try resizeBilinear(x, ResizeBilinear(size: Size2D(1, 4), coordinates: coordinates))
            #expect(y.shape == [1, 1, 1, 4])
            for (got, want) in zip(y.storage, values) { #expect(abs(got - want) < 1e-6, "\(coordinates)") }
        }
    }
}

/// Embedding against its definition, and its refusal of ids outside the table.
@Suite struct EmbeddingKernelTests {
    @Test("Embedding hand-worked: ids [[2, 0]] of table [[1, 2], [3, 4], [5, 6]] are [[[5, 6], [1, 2]]]")
    func lookup() throws {
        let y = try embedding(try Tensor(shape: [1, 2], storage: [2, 0]), table: try Tensor(shape: [3, 2], storage: [1, 2, 3, 4, 5, 6]))
        #expect(y.shape == [1, 2, 2] && y.storage == [5, 6, 1, 2])
    }

    @Test("ids that are not whole numbers in 0..<V are refused with their position", arguments: [Float(3), -1, 1.5, .nan])
    func outOfRange(_ id: Float) throws {
        #expect(throws: Embedding.IdOutOfRange.self) {
            _ = try embedding(try Tensor(shape: [1, 2], storage: [0, id]), table: try Tensor(shape: [3, 2], storage: [1, 2, 3, 4, 5, 6]))
        }
    }
}
