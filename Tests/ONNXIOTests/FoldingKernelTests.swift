import TensorCore
import XCTest

@testable import ONNXIO

/// The constant-folding kernels on the examples of the ONNX operator specification (worked by
/// hand there), and unknown batch entries flowing through them.
final class FoldingKernelTests: XCTestCase {
    private func tensor(_ shape: [Int], _ values: [Double], integer: Bool = true) -> KnownTensor {
        KnownTensor(isInteger: integer, shape: shape, values: values)
    }

    func testSliceExamplesFromTheSpecification() throws {
        let data = tensor([2, 4], [1, 2, 3, 4, 5, 6, 7, 8])
        // Slice example 1: axes [0, 1], starts [1, 0], ends [2, 3], steps [1, 2] → [[5, 7]].
        let a = try FoldingKernels.slice(data, starts: [1, 0], ends: [2, 3], axes: [0, 1], steps: [1, 2])
        XCTAssertEqual(a, tensor([1, 2], [5, 7]))
        // Slice example 2: starts [0, 1], ends [-1, 1000] → [[2, 3, 4]].
        let b = try FoldingKernels.slice(data, starts: [0, 1], ends: [-1, 1000], axes: nil, steps: nil)
        XCTAssertEqual(b, tensor([1, 3], [2, 3, 4]))
        // Negative steps walk backwards; ends clamp to -1 (one before the first element).
        let c = try FoldingKernels.slice(tensor([6], [0, 1, 2, 3, 4, 5]), starts: [Int.max], ends: [Int.min], axes: [0], steps: [-2])
        XCTAssertEqual(c, tensor([3], [5, 3, 1]))
    }

    func testGatherExamplesFromTheSpecification() throws {
        // Gather example 1: axis 0, indices [[0, 1], [1, 2]] on [[1, 1.2], [2.3, 3.4], [4.5, 5.7]].
        let data = tensor([3, 2], [1, 1.2, 2.3, 3.4, 4.5, 5.7], integer: false)
        let g0 = try FoldingKernels.gather(data, tensor([2, 2], [0, 1, 1, 2]), axis: 0)
        XCTAssertEqual(g0, tensor([2, 2, 2], [1, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7], integer: false))
        // Gather example 2: axis 1, indices [[0, 2]] on a 3×3 matrix.
        let m = tensor([3, 3], [1, 1.2, 1.9, 2.3, 3.4, 3.9, 4.5, 5.7, 5.9], integer: false)
        let g1 = try FoldingKernels.gather(m, tensor([1, 2], [0, 2]), axis: 1)
        XCTAssertEqual(g1, tensor([3, 1, 2], [1, 1.9, 2.3, 3.9, 4.5, 5.9], integer: false))
        XCTAssertThrowsError(try FoldingKernels.gather(m, tensor([1], [3]), axis: 1))
    }

    func testUnknownBatchEntriesFlowThroughDataMovementAndPoisonArithmetic() throws {
        let shape = KnownTensor(integers: [nil, 8, 8, 3])
        let tail = try FoldingKernels.slice(shape, starts: [1], ends: [Int(Int32.max)], axes: [0], steps: nil)
        XCTAssertEqual(tail, KnownTensor(integers: [8, 8, 3]))
        let product = try FoldingKernels.reduce(tail, axes: [], keepDims: false) { $0.reduce(1, *) }
        XCTAssertEqual(product.values, [192])
        let joined = try FoldingKernels.concat([try FoldingKernels.gather(shape, tensor([1], [0]), axis: 0), tensor([1], [-1])], axis: 0)
        XCTAssertEqual(joined, KnownTensor(integers: [nil, -1]))
        let doubled = try FoldingKernels.map([shape, tensor([], [2])], integer: true) { $0[0] * $0[1] }
        XCTAssertEqual(doubled, KnownTensor(integers: [nil, 16, 16, 6]))
    }

    func testBroadcastTransposeExpandTileRange() throws {
        let row = tensor([1, 3], [1, 2, 3]), column = tensor([2, 1], [10, 20])
        XCTAssertEqual(try FoldingKernels.map([row, column], integer: true) { $0[0] + $0[1] }, tensor([2, 3], [11, 12, 13, 21, 22, 23]))
        XCTAssertThrowsError(try FoldingKernels.broadcastShape([[2, 3], [4, 3]]))
        XCTAssertEqual(try FoldingKernels.transpose(tensor([2, 3], [1, 2, 3, 4, 5, 6]), perm: nil), tensor([3, 2], [1, 4, 2, 5, 3, 6]))
        XCTAssertEqual(try FoldingKernels.expand(column, to: [2, 2]), tensor([2, 2], [10, 10, 20, 20]))
        XCTAssertEqual(try FoldingKernels.tile(row, repeats: [2, 1]), tensor([2, 3], [1, 2, 3, 1, 2, 3]))
        // Range example from the specification: start 10, limit 4, delta -3 → [10, 7].
        XCTAssertEqual(try FoldingKernels.range(start: 10, limit: 4, delta: -3, integer: true), tensor([2], [10, 7]))
    }

    func testReshapeTargetsAndSizeLimits() throws {
        XCTAssertEqual(try FoldingKernels.reshapeTarget([2, 3, 4], [0, -1], allowZero: false), [2, 12])
        XCTAssertEqual(try FoldingKernels.reshapeTarget([2, 3, 4], [4, 0, 2], allowZero: false), [4, 3, 2])
        XCTAssertThrowsError(try FoldingKernels.reshapeTarget([2, 3, 4], [5, -1], allowZero: false))
        XCTAssertThrowsError(try FoldingKernels.count([1 << 20, 1 << 20]))
        XCTAssertThrowsError(try FoldingKernels.tile(tensor([1], [1]), repeats: [Int.max]))
    }
}
