import Engine
import TensorCore
import Testing
import _TestSupport

/// numpy broadcasting by its definition: for every output index, each input is read with its
/// axes aligned on the right and size-1 axes at 0, and `f` combines the values.
private func broadcastLoop(_ inputs: [Tensor], _ f: ([Float]) -> Float) throws -> Tensor {
    let rank = inputs.map(\.rank).max() ?? 0
    var shape = [Int](repeating: 1, count: rank)
    for t in inputs {
        for (k, d) in t.shape.enumerated() where d != 1 { shape[rank - t.rank + k] = d }
    }
    var out = try Tensor(shape: shape)
    for (flat, index) in allIndices(shape).enumerated() {
        let values = inputs.map { t in
            t.storage[flatOffset((0..<t.rank).map { k in t.shape[k] == 1 ? 0 : index[rank - t.rank + k] }, in: t.shape)]
        }
        out.storage[flat] = f(values)
    }
    return out
}

/// The scalar meaning of each elementwise op, folded left over the inputs.
private func combine(_ kind: ElementwiseOp, _ v: [Float]) -> Float {
    switch kind {
    case .add: return v.dropFirst().reduce(v[0], +)
    case .subtract: return v[0] - v[1]
    case .multiply: return v.dropFirst().reduce(v[0], *)
    case .divide: return v[0] / v[1]
    case .maximum: return v.max()!
    case .minimum: return v.min()!
    case .mean: return v.dropFirst().reduce(v[0], +) / Float(v.count)
    }
}

@Suite("elementwise ops broadcast like numpy")
struct ElementwiseTests {
    @Test("[2,3] + [3]: the row is added to every row")
    func addRow() throws {
        let a = try Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3], storage: [10, 20, 30])
        let y = try elementwise(.add, [a, b])
        expectValues(y, shape: [2, 3], [11, 22, 33, 14, 25, 36])
        expectValues(y, shape: [2, 3], try broadcastLoop([a, b]) { $0[0] + $0[1] }.storage)
    }

    @Test("[2,1,3] * [1,4,1] → [2,4,3] outer product of the middle axes")
    func multiplyOuter() throws {
        let a = try Tensor(shape: [2, 1, 3], storage: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [1, 4, 1], storage: [1, 2, 3, 4])
        let y = try elementwise(.multiply, [a, b])
        expectValues(
            y, shape: [2, 4, 3],
            [
                1, 2, 3, 2, 4, 6, 3, 6, 9, 4, 8, 12,
                4, 5, 6, 8, 10, 12, 12, 15, 18, 16, 20, 24,
            ])
        for i in 0..<2 {
            for j in 0..<4 {
                for k in 0..<3 { #expect(y.storage[(i * 4 + j) * 3 + k] == a.storage[i * 3 + k] * b.storage[j]) }
            }
        }
    }

    @Test("mean of [2,3], [3] and [2,1]")
    func meanOfThree() throws {
        let a = try Tensor(shape: [2, 3], storage: [3, 6, 9, 12, 15, 18])
        let b = try Tensor(shape: [3], storage: [0, 3, 6])
        let c = try Tensor(shape: [2, 1], storage: [3, -3])
        let y = try elementwise(.mean, [a, b, c])
        expectValues(y, shape: [2, 3], [2, 4, 6, 3, 5, 7], tolerance: 1e-6)
        for i in 0..<2 {
            for j in 0..<3 {
                let expected = (a.storage[i * 3 + j] + b.storage[j] + c.storage[i]) / 3
                #expect(abs(y.storage[i * 3 + j] - expected) <= 1e-6)
            }
        }
    }

    @Test("subtract and divide keep operand order, whichever operand is broadcast")
    func operandOrder() throws {
        let row = try Tensor(shape: [3], storage: [10, 20, 30])
        let matrix = try Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        expectValues(try elementwise(.subtract, [row, matrix]), shape: [2, 3], [9, 18, 27, 6, 15, 24])
        expectValues(try elementwise(.subtract, [matrix, row]), shape: [2, 3], [-9, -18, -27, -6, -15, -24])
        let column = try Tensor(shape: [2, 1], storage: [12, 24])
        let divisors = try Tensor(shape: [3], storage: [1, 2, 4])
        expectValues(try elementwise(.divide, [column, divisors]), shape: [2, 3], [12, 6, 3, 24, 12, 6])
        expectValues(
            try elementwise(.divide, [divisors, column]), shape: [2, 3],
            [1.0 / 12, 2.0 / 12, 4.0 / 12, 1.0 / 24, 2.0 / 24, 4.0 / 24])
    }

    @Test("maximum and minimum over three inputs, one of them a scalar")
    func maximumMinimum() throws {
        let a = try Tensor(shape: [2, 2], storage: [1, -5, 3, 0])
        let b = try Tensor(shape: [2], storage: [2, -1])
        let s = Tensor(scalar: 0.5)
        expectValues(try elementwise(.maximum, [a, b, s]), shape: [2, 2], [2, 0.5, 3, 0.5])
        expectValues(try elementwise(.minimum, [a, b, s]), shape: [2, 2], [0.5, -5, 0.5, -1])
        expectValues(try elementwise(.add, [s, a]), shape: [2, 2], [1.5, -4.5, 3.5, 0.5])
    }

    static let shapePairs: [([Int], [Int])] = [
        ([2, 3], [3]), ([2, 1, 3], [1, 4, 1]), ([4, 1, 5], [3, 1]), ([1], [2, 3, 4]),
        ([], [3, 2]), ([3, 2, 4, 5], [2, 1, 1]), ([3, 2, 4, 5], [3, 2, 4, 5]), ([2, 3, 1], [2, 3, 4]),
    ]

    @Test("every op on random data = the broadcasting loop", arguments: ElementwiseOp.allCases, shapePairs)
    func randomAgainstLoop(_ kind: ElementwiseOp, _ shapes: ([Int], [Int])) throws {
        var generator = SeededGenerator(seed: UInt64(shapes.0.count * 10 + shapes.1.reduce(1, *)))
        let a = randomTensor(shapes.0, in: -2...2, &generator)
        let b = randomTensor(shapes.1, in: 0.5...2, &generator)  // no divisor near 0
        let y = try elementwise(kind, [a, b])
        let expected = try broadcastLoop([a, b]) { combine(kind, $0) }
        expectClose(y, expected, relative: 1e-6, "\(kind) \(shapes.0) ∘ \(shapes.1)")
    }

    @Test("shapes that do not broadcast throw")
    func incompatible() throws {
        let a = try Tensor(shape: [2, 3], repeating: 1), b = try Tensor(shape: [2], repeating: 1)
        #expect(throws: ModelPressError.self) { try elementwise(.add, [a, b]) }
    }

    @Test("prelu: slope [3,1] broadcast over each sample's 3×2")
    func preluBroadcast() throws {
        let x = try Tensor(shape: [2, 3, 2], storage: [-1, 2, -3, 4, -5, 6, 7, -8, 9, -10, 11, -12])
        let slope = try Tensor(shape: [3, 1], storage: [0.5, 0.25, 2])
        let y = try prelu(x, slope: slope)
        expectValues(y, shape: [2, 3, 2], [-0.5, 2, -0.75, 4, -10, 6, 7, -4, 9, -2.5, 11, -24])
    }
}
