import Deflate
import Foundation
import TensorCore

/// What the pruned weights cost on disk: per kernel, the bytes as stored (dense float32, or an
/// ONNX COO sparse tensor: float32 values + int64 linearized indices) and gzip-compressed.
public enum PruningStorage {
    /// One kernel's bytes.
    public struct Bytes: Equatable, Sendable, Encodable {
        /// `dense` or `sparse` (COO, int64 indices).
        public var format: String
        /// Bytes of the stored tensor data (dense: 4·n; sparse: 4·nnz values + 8·nnz indices).
        public var bytes: Int
        /// gzip -9 of those bytes.
        public var gzipBytes: Int
        /// Bytes the same weights take stored dense (4·n), for comparison.
        public var denseBytes: Int
    }

    /// The stored bytes of `weights` (row-major) in `format`: `sparse` stores the nonzero values
    /// and their linearized indices, ascending, as the ONNX file does.
    public static func bytes(of weights: [Float], sparse: Bool) throws -> Bytes {
        let dense = weights.count * 4
        guard sparse else {
            return Bytes(format: "dense", bytes: dense, gzipBytes: try Gzip.compressedSize(weights), denseBytes: dense)
        }
        var data = Data()
        var indices = Data()
        for (i, w) in weights.enumerated() where w != 0 {
            withUnsafeBytes(of: w.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            withUnsafeBytes(of: Int64(i).littleEndian) { indices.append(contentsOf: $0) }
        }
        data.append(indices)
        return Bytes(format: "sparse", bytes: data.count, gzipBytes: try Gzip.compressedSize(data), denseBytes: dense)
    }

    /// What a block-sparse runtime stores for `weights` (BSR): the weights of every block that
    /// holds a nonzero (float32), one int32 block-column index per such block, and int32 row
    /// pointers (`outputBlocks + 1`). A block row is R output channels; its columns are the
    /// (input block, kernel position) pairs.
    public static func blockSparseBytes(of weights: [Float], grid: BlockGrid) throws -> Bytes {
        var values = Data(), columns = Data(), rows = Data()
        var kept: Int32 = 0
        withUnsafeBytes(of: kept.littleEndian) { rows.append(contentsOf: $0) }
        let columnsPerRow = grid.inputBlocks * grid.positions
        for row in 0..<grid.outputBlocks {
            for column in 0..<columnsPerRow {
                let id = row * columnsPerRow + column
                guard grid.isKept(id, in: weights) else { continue }
                grid.forEachIndex(ofBlock: id) { i in withUnsafeBytes(of: weights[i].bitPattern.littleEndian) { values.append(contentsOf: $0) } }
                withUnsafeBytes(of: Int32(column).littleEndian) { columns.append(contentsOf: $0) }
                kept += 1
            }
            withUnsafeBytes(of: kept.littleEndian) { rows.append(contentsOf: $0) }
        }
        let data = values + columns + rows
        return Bytes(format: "block-sparse", bytes: data.count, gzipBytes: try Gzip.compressedSize(data), denseBytes: weights.count * 4)
    }

    /// `report` with each pruned or measured kernel's storage filled in from `graph` (the graph
    /// that was written); `sparse` names the initializers the file stores as sparse tensors.
    public static func annotate(_ report: PruningReport, graph: Graph, sparse: Set<String>) throws -> PruningReport {
        var out = report
        for i in out.layers.indices {
            let name = out.layers[i].weight
            guard let w = graph.initializers[name] else { continue }
            out.layers[i].storage = try bytes(of: w.storage, sparse: sparse.contains(name))
            if case .block(let block) = PruningGranularity(name: report.structure), out.layers[i].skipped == nil,
                let grid = BlockGrid(op: out.layers[i].op, shape: w.shape, block: block), grid.outer * grid.inputs * grid.inner == w.count
            {
                out.layers[i].blockSparse = try blockSparseBytes(of: w.storage, grid: grid)
            }
        }
        return out
    }
}

extension PruningReport {
    /// This report with every kernel's nonzeros and sparsity counted again in `graph` (e.g. after
    /// BatchNorm folding and the channels-last Flatten fold, which scale and permute weights but
    /// keep zeros zero). Throws `internalError` when a kernel's node or weight is gone.
    public func recounted(in graph: Graph) throws -> PruningReport {
        var out = self
        for i in out.layers.indices where !out.layers[i].shape.isEmpty {
            let name = out.layers[i].node
            guard let w = graph.initializers[out.layers[i].weight], w.count == out.layers[i].parameters else {
                throw ModelPressError.internalError("pruning report: kernel of '\(name)' is missing or changed size after the export passes")
            }
            let nonzeros = w.storage.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            out.layers[i].nonzeros = nonzeros
            out.layers[i].shape = w.shape
            out.layers[i].sparsity = w.count == 0 ? 0 : 1 - Double(nonzeros) / Double(w.count)
        }
        return out
    }
}
