import Engine
import TensorCore
import Testing
import _TestSupport

/// ReduceMean and Tile against naive references written from their definitions (explicit
/// multi-index loops) and hand-worked values.
@Suite struct ReduceMeanTileTests {
    /// Row-major multi-index of flat offset `i` in `shape`.
    static func multiIndex(_ i: Int, _ shape: [Int]) -> [Int] {
        var rest = i
        return shape.indices.reversed().map { a -> Int in
            defer { rest /= shape[a] }
            return rest % shape[a]
        }.reversed()
    }

    static func offset(_ index: [Int], _ shape: [Int]) -> Int { zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 } }

    @Test("ReduceMean equals the naive mean over the reduced axes", arguments: [[1], [2, 3], [1, 3], [3]])
    func reduceMean(_ axes: [Int]) throws {
        var generator = SeededGenerator(seed: 4)
        let x = randomTensor([2, 3, 4, 5], &generator)
        for keep in [true, false] {
            let op = ReduceMean(axes: axes, keepDims: keep)
            var args = KernelArguments([x])
            let y = try op.run(&args)[0]
            #expect(y.shape == op.outputShape(x.shape))
            // Naive: sum each input element into the output cell of its kept coordinates.
            let kept = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
            var sums = [Double](repeating: 0, count: kept.reduce(1, *))
            for i in 0..<x.count {
                let index = Self.multiIndex(i, x.shape).enumerated().map { axes.contains($0.offset) ? 0 : $0.element }
                sums[Self.offset(index, kept)] += Double(x.storage[i])
            }
            let n = Double(axes.map { x.shape[$0] }.reduce(1, *))
            for (i, s) in sums.enumerated() { #expect(abs(Double(y.storage[i]) - s / n) < 1e-6) }
        }
    }

    @Test("ReduceMean hand-worked: rows of [[1, 2, 3], [4, 5, 9]] average to 2 and 6")
    func reduceMeanByHand() throws {
        var args = KernelArguments([try Tensor(shape: [1, 2, 3], storage: [1, 2, 3, 4, 5, 9])])
        let y = try ReduceMean(axes: [2], keepDims: true).run(&args)[0]
        #expect(y.shape == [1, 2, 1] && y.storage == [2, 6])
    }

    @Test("Tile equals the naive x[i mod d] definition", arguments: [[1, 2, 1, 3], [1, 1, 2, 1], [1, 3, 3, 2]])
    func tile(_ repeats: [Int]) throws {
        var generator = SeededGenerator(seed: 5)
        let x = randomTensor([2, 3, 2, 2], &generator)
        var args = KernelArguments([x])
        let y = try Tile(repeats).run(&args)[0]
        #expect(y.shape == zip(x.shape, repeats).map(*))
        for i in 0..<y.count {
            let source = zip(Self.multiIndex(i, y.shape), x.shape).map { $0 % $1 }
            #expect(y.storage[i] == x.storage[Self.offset(source, x.shape)])
        }
    }

    @Test("Tile hand-worked: [[1, 2]] tiled (1, 2, 2) is [[1, 2, 1, 2], [1, 2, 1, 2]]")
    func tileByHand() throws {
        var args = KernelArguments([try Tensor(shape: [1, 1, 2], storage: [1, 2])])
        let y = try Tile([1, 2, 2]).run(&args)[0]
        #expect(y.shape == [1, 2, 4] && y.storage == [1, 2, 1, 2, 1, 2, 1, 2])
    }
}
