import Pruning
import TensorCore
import XCTest

/// Hand-worked examples of block pruning: the grid's geometry for Conv and Dense kernels, the
/// ranking by mean `|w|`, partial edge blocks, and the block-sparse byte count.
final class BlockPruningTests: XCTestCase {
    func testParsesBlockShapes() {
        XCTAssertEqual(PruningGranularity(name: "block:4x1"), .block(PruningBlock(outputs: 4, inputs: 1)))
        XCTAssertEqual(PruningGranularity(name: "block:2x8")?.name, "block:2x8")
        for bad in ["block:1x1", "block:0x4", "block:4", "block:x4", "block:4x1x1", "block:65x1", "block:-1x4"] {
            XCTAssertNil(PruningGranularity(name: bad), bad)
        }
    }

    func testConvBlocksRunAlongOutputChannelsAtOnePosition() {
        // Conv OIHW 4×2×1×2 (outer 4, inputs 2, inner 2), blocks 2×1: ids (bo, bi, p) → 2·2·2 = 8.
        let grid = BlockGrid(outer: 4, inputs: 2, inner: 2, outputsAlongOuter: true, block: PruningBlock(outputs: 2, inputs: 1))
        XCTAssertEqual(grid.count, 8)
        // Block 0: outputs 0–1, input 0, position 0 → flat (o·2 + i)·2 + p = 0, 4.
        XCTAssertEqual(indices(grid, 0), [0, 4])
        // Block 3: bo 0, bi 1, p 1 → outputs 0–1, input 1, position 1 → 3, 7.
        XCTAssertEqual(indices(grid, 3), [3, 7])
        // Block 4: bo 1, bi 0, p 0 → outputs 2–3 → 8, 12.
        XCTAssertEqual(indices(grid, 4), [8, 12])
    }

    func testDenseBlocksRunAlongColumnsWithPartialEdges() {
        // Dense K×M = 3×5 (inputs 3 rows, outputs 5 columns), blocks 4×1: output blocks ⌈5/4⌉ = 2,
        // ids (bo, bi).
        let grid = BlockGrid(outer: 1, inputs: 3, inner: 5, outputsAlongOuter: false, block: PruningBlock(outputs: 4, inputs: 1))
        XCTAssertEqual(grid.count, 6)
        XCTAssertEqual(indices(grid, 0), [0, 1, 2, 3])  // row 0, columns 0–3
        XCTAssertEqual(indices(grid, 1), [5, 6, 7, 8])  // row 1, columns 0–3
        XCTAssertEqual(indices(grid, 3), [4])  // row 0, column 4: a partial edge block
        XCTAssertEqual(indices(grid, 5), [14])
    }

    func testRemovesBlocksOfSmallestMeanMagnitude() {
        // Dense 2×4, blocks 2×1 (two adjacent columns of one row), ids (bo, bi): [0, 1] .3,
        // [4, 5] .15, [2, 3] .5, [6, 7] .5.
        let w: [Float] = [
            0.5, -0.1, 0.3, -0.7,
            0.2, 0.1, -0.6, 0.4,
        ]
        let grid = BlockGrid(outer: 1, inputs: 2, inner: 4, outputsAlongOuter: false, block: PruningBlock(outputs: 2, inputs: 1))
        XCTAssertEqual(grid.meanMagnitudes(w).map { ($0 * 1000).rounded() / 1000 }, [0.3, 0.15, 0.5, 0.5])
        XCTAssertEqual(applying(MagnitudeMask.blocks(w, grid: grid, sparsity: 0.5), to: w), [0, 0, 0.3, -0.7, 0, 0, -0.6, 0.4])
        // Ties (.5 and .5) go to the lower block id.
        XCTAssertEqual(applying(MagnitudeMask.blocks(w, grid: grid, sparsity: 0.75), to: w), [0, 0, 0, 0, 0, 0, -0.6, 0.4])
    }

    func testGlobalBlocksRankAcrossKernels() {
        // Two 1×4 kernels in blocks of 2 outputs: means [.3 .5] and [.15 .5]; a quarter of all
        // four blocks is one block, the second kernel's first.
        let grid = BlockGrid(outer: 1, inputs: 1, inner: 4, outputsAlongOuter: false, block: PruningBlock(outputs: 2, inputs: 1))
        let removed = MagnitudeMask.globalBlocks([([0.5, -0.1, 0.3, -0.7], grid), ([0.2, 0.1, -0.6, 0.4], grid)], sparsity: 0.25)
        XCTAssertEqual(removed, [[], [0, 1]])
    }

    func testBlockSparseBytes() throws {
        // Dense 2×4 in 2×1 blocks with outputs 0–1 removed: block row 0 (outputs 0–1) is empty,
        // block row 1 (outputs 2–3) keeps both input columns.
        let w: [Float] = [0, 0, 0.3, -0.7, 0, 0, -0.6, 0.4]
        let grid = BlockGrid(outer: 1, inputs: 2, inner: 4, outputsAlongOuter: false, block: PruningBlock(outputs: 2, inputs: 1))
        let bytes = try PruningStorage.blockSparseBytes(of: w, grid: grid)
        // 2 kept blocks · 2 values · 4 + 2 column indices · 4 + (2 block rows + 1) · 4.
        XCTAssertEqual(bytes.bytes, 16 + 8 + 12)
        XCTAssertEqual(bytes.denseBytes, 32)
        XCTAssertEqual(bytes.format, "block-sparse")
    }

    func testPrunesAGraphToWholeBlocks() throws {
        let config = PruningConfiguration(sparsity: 0.5, structure: .block(PruningBlock(outputs: 4, inputs: 1)))
        let (pruned, report) = try MagnitudePruning(config).prune(try SmallGraphs.mlp())
        XCTAssertEqual(report.structure, "block:4x1")
        for layer in report.layers where layer.skipped == nil {
            let w = try XCTUnwrap(pruned.initializers[layer.weight])
            let grid = try XCTUnwrap(BlockGrid(op: layer.op, shape: w.shape, block: PruningBlock(outputs: 4, inputs: 1)))
            var zeroBlocks = 0
            for id in 0..<grid.count {
                var zeros = 0, n = 0
                grid.forEachIndex(ofBlock: id) {
                    n += 1; if w.storage[$0] == 0 { zeros += 1 }
                }
                XCTAssertTrue(zeros == 0 || zeros == n, "\(layer.node) block \(id): \(zeros) of \(n) zero")
                if zeros == n { zeroBlocks += 1 }
            }
            XCTAssertEqual(zeroBlocks, MagnitudeMask.prunedCount(sparsity: 0.5, count: grid.count), layer.node)
        }
    }

    private func indices(_ grid: BlockGrid, _ id: Int) -> [Int] {
        var out: [Int] = []
        grid.forEachIndex(ofBlock: id) { out.append($0) }
        return out
    }

    private func applying(_ removed: [Int], to weights: [Float]) -> [Float] {
        var w = weights
        for i in removed { w[i] = 0 }
        return w
    }
}
