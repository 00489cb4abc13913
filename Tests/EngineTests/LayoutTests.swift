import Engine
import TensorCore
import Testing
import _TestSupport

/// transpose, concat, pad, slice and upsampleNearest against index arithmetic and
/// hand-worked small tensors.
@Suite("layout kernels move the right elements")
struct LayoutTests {
    /// 0, 1, 2, … in `shape`: every element names its own source offset.
    func iota(_ shape: [Int]) throws -> Tensor {
        try Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map(Float.init))
    }

    @Test(
        "transpose: out[i] = x[i permuted back]",
        arguments: [
            ([2, 3, 4, 5], [0, 2, 3, 1]), ([2, 3, 4, 5], [0, 3, 1, 2]), ([2, 3, 4], [2, 0, 1]),
            ([3, 5], [1, 0]), ([2, 3, 4], [0, 1, 2]), ([2, 1, 3, 1, 2], [4, 2, 0, 3, 1]),
        ])
    func transposeByIndex(_ shape: [Int], _ perm: [Int]) throws {
        let x = try iota(shape)
        let y = try transpose(x, perm: perm)
        let outShape = perm.map { shape[$0] }
        #expect(y.shape == outShape)
        for (flat, out) in allIndices(outShape).enumerated() {
            var source = [Int](repeating: 0, count: shape.count)
            for (axis, from) in perm.enumerated() { source[from] = out[axis] }
            #expect(y.storage[flat] == x.storage[flatOffset(source, in: shape)], "at \(out)")
        }
    }

    @Test("hand-worked 2×3 transpose")
    func transposeHandWorked() throws {
        let x = try Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        expectValues(try transpose(x, perm: [1, 0]), shape: [3, 2], [1, 4, 2, 5, 3, 6])
    }

    @Test("concat on axes 1 and 3 by index arithmetic", arguments: [1, 3])
    func concatByIndex(_ axis: Int) throws {
        var shapes = [[2, 3, 2, 4], [2, 3, 2, 4], [2, 3, 2, 4]]
        for (i, extent) in [3, 1, 2].enumerated() { shapes[i][axis] = extent }
        let parts = try shapes.enumerated().map { i, s in
            try Tensor(shape: s, storage: (0..<s.reduce(1, *)).map { Float(i * 1000 + $0) })
        }
        let y = try concat(parts, axis: axis)
        var outShape = shapes[0]
        outShape[axis] = 6
        #expect(y.shape == outShape)
        for (flat, out) in allIndices(outShape).enumerated() {
            var part = 0, local = out
            while local[axis] >= shapes[part][axis] { local[axis] -= shapes[part][axis]; part += 1 }
            #expect(y.storage[flat] == parts[part].storage[flatOffset(local, in: shapes[part])], "at \(out)")
        }
    }

    @Test("hand-worked concat of [[1,2],[3,4]] and [[5],[6]] on axis 1")
    func concatHandWorked() throws {
        let a = try Tensor(shape: [2, 2], storage: [1, 2, 3, 4]), b = try Tensor(shape: [2, 1], storage: [5, 6])
        expectValues(try concat([a, b], axis: 1), shape: [2, 3], [1, 2, 5, 3, 4, 6])
    }

    @Test("pad: zeros before and after, data in the middle")
    func padHandWorked() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], storage: [1, 2, 3, 4])
        // One row on top, two columns on the right.
        expectValues(
            try pad(x, pads: [0, 0, 1, 0, 0, 0, 0, 2]), shape: [1, 1, 3, 4],
            [
                0, 0, 0, 0,
                1, 2, 0, 0,
                3, 4, 0, 0,
            ])
        // A channel before, a column on the left, a row below.
        expectValues(
            try pad(x, pads: [0, 1, 0, 1, 0, 0, 1, 0]), shape: [1, 2, 3, 3],
            [
                0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 1, 2, 0, 3, 4, 0, 0, 0,
            ])
    }

    @Test("slice: a [1,1,2,3] window of 0…23 shaped [1,2,3,4]")
    func sliceHandWorked() throws {
        let x = try iota([1, 2, 3, 4])
        expectValues(try slice(x, begin: [0, 1, 1, 0], end: [1, 2, 3, 3]), shape: [1, 1, 2, 3], [16, 17, 18, 20, 21, 22])
        expectValues(try slice(x, begin: [0, 0, 2, 1], end: [1, 2, 3, 4]), shape: [1, 2, 1, 3], [9, 10, 11, 21, 22, 23])
    }

    @Test("upsampleNearest repeats rows, columns and channels")
    func upsampleHandWorked() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], storage: [1, 2, 3, 4])
        expectValues(
            try upsampleNearest(x, scales: [1, 1, 2, 3]), shape: [1, 1, 4, 6],
            [
                1, 1, 1, 2, 2, 2,
                1, 1, 1, 2, 2, 2,
                3, 3, 3, 4, 4, 4,
                3, 3, 3, 4, 4, 4,
            ])
        let channels = try Tensor(shape: [1, 2, 1, 2], storage: [1, 2, 3, 4])
        expectValues(
            try upsampleNearest(channels, scales: [1, 2, 2, 1]), shape: [1, 4, 2, 2],
            [1, 2, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 3, 4])
    }
}
