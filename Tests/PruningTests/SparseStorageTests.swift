import Deflate
import ONNXIO
import Pruning
import TensorCore
import XCTest

/// `--sparse-storage`: kernels sparse enough are written as ONNX sparse initializers and read back
/// bit-identical; denser ones stay dense.
final class SparseStorageTests: XCTestCase {
    func testRoundTripThroughSparseInitializers() throws {
        var c = PruningConfiguration(sparsity: 0.9)
        c.perLayer = ["fc2": 0.5]
        let (pruned, _) = try MagnitudePruning(c).prune(try SmallGraphs.mlp())
        var options = ONNXExportOptions()
        options.sparseStorage = true
        let sparse = try ONNXExporter.export(pruned, options: options)
        // w1: 10 of 96 nonzero, 120 bytes as COO < 384 dense; w2: 18 of 36, 216 > 144; b1: dense.
        XCTAssertEqual(sparse.sparseInitializers, ["w1"])
        let dense = try ONNXExporter.export(pruned)
        XCTAssertLessThan(sparse.data.count, dense.data.count)
        // Only candidates go sparse.
        options.sparseCandidates = ["w2"]
        XCTAssertEqual(try ONNXExporter.export(pruned, options: options).sparseInitializers, [])
        let back = try ONNXImporter.importModel(from: sparse.data, file: "sparse.onnx")
        for name in ["w1", "w2", "b1"] {
            XCTAssertEqual(back.initializers[name]?.shape, pruned.initializers[name]?.shape, name)
            XCTAssertEqual(back.initializers[name]?.storage, pruned.initializers[name]?.storage, name)
        }
    }

    func testStorageBytesOfSparseAndDense() throws {
        let w: [Float] = [0, 0, 1.5, 0, 0, 0, -2, 0]
        let dense = try PruningStorage.bytes(of: w, sparse: false)
        XCTAssertEqual(dense.bytes, 32)
        let sparse = try PruningStorage.bytes(of: w, sparse: true)
        XCTAssertEqual(sparse.bytes, 2 * 4 + 2 * 8)  // 2 float32 values + 2 int64 indices
        XCTAssertEqual(sparse.denseBytes, 32)
        // gzip: 10-byte header + deflate + 8-byte trailer; zeros compress.
        XCTAssertGreaterThan(dense.gzipBytes, 18)
        XCTAssertLessThan(try Gzip.compressedSize([Float](repeating: 0, count: 4096)), 16384 / 100)
    }
}
