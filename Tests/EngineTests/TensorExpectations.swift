import TensorCore
import Testing

/// Expects `actual` to have `reference`'s shape and to be within `relative · max|reference|`
/// of it everywhere (`absolute` more when given); on failure says where the largest
/// difference is and how large it is, at the caller's source location.
func expectClose(
    _ actual: Tensor, _ reference: Tensor, relative: Double = 1e-5, absolute: Double = 0,
    _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        actual.shape == reference.shape, "\(what): shape \(actual.shape), reference \(reference.shape)",
        sourceLocation: sourceLocation)
    guard actual.shape == reference.shape else { return }
    let scale = reference.storage.reduce(0.0) { max($0, abs(Double($1))) }
    let tolerance = relative * scale + absolute
    var worst = 0.0, at = 0
    for i in actual.storage.indices {
        let d = abs(Double(actual.storage[i]) - Double(reference.storage[i]))
        // NaN compares false: count it as the worst possible difference.
        if !(d <= worst) { (worst, at) = (d.isNaN ? .infinity : d, i) }
    }
    #expect(
        worst <= tolerance,
        "\(what): largest |actual − reference| = \(worst) at \(multiIndex(at, in: actual.shape)) (actual \(actual.storage[at]), reference \(reference.storage[at])); tolerance \(tolerance)",
        sourceLocation: sourceLocation)
}

/// Expects exactly `expected` element by element (hand-worked values), reporting the first mismatch.
func expectValues(
    _ actual: Tensor, shape: [Int], _ expected: [Float], tolerance: Float = 0,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.shape == shape, "shape \(actual.shape), expected \(shape)", sourceLocation: sourceLocation)
    guard actual.shape == shape, actual.count == expected.count else { return }
    if let i = actual.storage.indices.first(where: { !(abs(actual.storage[$0] - expected[$0]) <= tolerance) }) {
        Issue.record("at \(multiIndex(i, in: shape)): \(actual.storage[i]), expected \(expected[i])", sourceLocation: sourceLocation)
    }
}

/// The multi-index of row-major element `flat` in `shape`.
func multiIndex(_ flat: Int, in shape: [Int]) -> [Int] {
    var rest = flat
    var result = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() where shape[axis] > 0 {
        result[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return result
}

/// The row-major element offset of `index` in `shape`.
func flatOffset(_ index: [Int], in shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

/// Every multi-index of `shape`, row-major order.
func allIndices(_ shape: [Int]) -> [[Int]] {
    (0..<shape.reduce(1, *)).map { multiIndex($0, in: shape) }
}
