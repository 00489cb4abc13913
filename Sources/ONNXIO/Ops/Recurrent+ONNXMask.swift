import Foundation
import ONNXProto
import TensorCore

/// How ModelPress reads back a masked recurrent layer it wrote: the nodes of its lowering and
/// the IR node they stand for, kept in the file's `modelpress.masked_recurrent` metadata (a
/// JSON list). The ONNX graph stays standard; other readers ignore the entry.
struct MaskedRecurrenceRecord: Codable, Equatable {
    /// The ONNX LSTM / GRU / RNN node (named as the IR node).
    var node: String
    /// Nodes of the lowering that read the IR node's sequence and its step mask as their first
    /// input, and those that write its outputs (`y`, `h`, `c`) as their first output — named by
    /// node, since reading the file back (QDQ folding) may rename values but not nodes.
    var sequenceReader: String
    var maskReader: String
    var outputWriters: [String]
    /// `state` or `zero` (`Recurrent.MaskedOutput`).
    var skipped: String
    /// The other ONNX nodes of the lowering, read back as part of the IR node.
    var nodes: [String]

    /// The metadata key.
    static let metadataKey = "modelpress.masked_recurrent"
}

/// A masked recurrent layer in standard ONNX (`Recurrent+ONNX.swift` writes the op itself).
/// Skipping a step keeps the state, so the layer's states equal those of the op run on the
/// kept steps alone, moved to the front of each sequence (`TopK` of `mask·(L − t)` gives
/// their positions in order; `GatherElements` moves them), with `sequence_lens` their count.
/// Each output step then reads the compacted output of the last kept step at or before it
/// (forward: inclusive `CumSum` − 1) or at or after it (reverse: exclusive `CumSum`), zero where
/// there is none (or, with `masked == .zero`, where the step is skipped).
struct MaskedRecurrentLowering {
    let node: Node
    /// N, L, C of the input and H.
    let batch: Int, steps: Int, features: Int, units: Int
    /// The step mask N×L (float 0/1).
    var mask: String { node.inputs[3] }

    /// The kept steps moved to the front: `[x N×L×C, counts N (float), lengths N (int32, ≥ 1)]`.
    func compacted(_ b: inout ONNXGraphBuilder) throws -> (x: String, counts: String, lengths: String) {
        let name = node.name, perSample = [batch, steps]
        let rank = b.constant(name + "/step_rank", try Tensor(shape: [1, steps], storage: (0..<steps).map { Float(steps - $0) }))
        let keys = b.fresh(name + "/step_keys")
        b.add("Mul", name: keys, inputs: [mask, rank], output: keys, shape: perSample)
        let (sortedKeys, order) = (b.fresh(name + "/kept_keys"), b.fresh(name + "/kept_order"))
        b.add(
            "TopK", name: b.fresh(name + "/kept_first"), inputs: [keys, b.int64s(name + "/steps", [steps])], outputs: [sortedKeys, order],
            attributes: [.int("axis", 1), .int("largest", 1), .int("sorted", 1)], shapes: [perSample, perSample],
            elemTypes: [ONNXDataType.float, ONNXDataType.int64])
        let x = gatherSteps(node.inputs[0], at: order, width: features, name: name + "/compacted", &b)
        let counts = b.fresh(name + "/kept_count")
        b.add("ReduceSum", name: counts, inputs: [mask, b.int64s(name + "/step_axis", [1])], output: counts, attributes: [.int("keepdims", 0)], shape: [batch])
        let atLeastOne = b.fresh(name + "/kept_count_min1")
        b.add("Max", name: atLeastOne, inputs: [counts, b.scalar(name + "/one", 1)], output: atLeastOne, shape: [batch])
        let lengths = b.fresh(name + "/sequence_lens")
        b.add("Cast", name: lengths, inputs: [atLeastOne], output: lengths, attributes: [.int("to", Int(ONNXDataType.int32))], shape: [batch], elemType: ONNXDataType.int32)
        return (x, counts, lengths)
    }

    /// The output sequence `y` N×L×H at the steps' positions from the compacted one.
    func expanded(_ compact: String, reverse: Bool, counts: String, output: String, zeroSkipped: Bool, _ b: inout ONNXGraphBuilder) {
        let name = node.name, perSample = [batch, steps]
        let axis = b.fresh(name + "/cumsum_axis")
        b.appendInitializer(ONNXTensor.int64(axis, [1], shape: []))
        let before = b.fresh(name + "/kept_before")
        b.add("CumSum", name: before, inputs: [mask, axis], output: before, attributes: reverse ? [.int("exclusive", 1)] : [], shape: perSample)
        let position = b.fresh(name + "/source_step"), valid = b.fresh(name + "/has_state")
        if reverse {
            // The first kept step at or after t sits at (kept steps before t), valid while below the count.
            b.add("Min", name: position, inputs: [before, b.scalar(name + "/last_step", Float(steps - 1))], output: position, shape: perSample)
            let count = b.fresh(name + "/kept_count_column"), left = b.fresh(name + "/kept_after")
            b.add("Unsqueeze", name: count, inputs: [counts, b.int64s(name + "/column_axis", [1])], output: count, shape: [batch, 1])
            b.add("Sub", name: left, inputs: [count, before], output: left, shape: perSample)
            b.add("Min", name: valid, inputs: [left, b.scalar(name + "/one", 1)], output: valid, shape: perSample)
        } else {
            // The last kept step at or before t sits at (kept steps up to t) − 1, valid once one was kept.
            let shifted = b.fresh(name + "/kept_through")
            b.add("Sub", name: shifted, inputs: [before, b.scalar(name + "/one", 1)], output: shifted, shape: perSample)
            b.add("Max", name: position, inputs: [shifted, b.scalar(name + "/zero", 0)], output: position, shape: perSample)
            b.add("Min", name: valid, inputs: [before, b.scalar(name + "/one", 1)], output: valid, shape: perSample)
        }
        let index = b.fresh(name + "/source_index")
        b.add("Cast", name: index, inputs: [position], output: index, attributes: [.int("to", Int(ONNXDataType.int64))], shape: perSample, elemType: ONNXDataType.int64)
        let gathered = gatherSteps(compact, at: index, width: units, name: name + "/at_steps", &b)
        let scale = b.fresh(name + "/output_scale")
        b.add("Unsqueeze", name: scale, inputs: [zeroSkipped ? mask : valid, b.int64s(name + "/feature_axis", [2])], output: scale, shape: [batch, steps, 1])
        b.add("Mul", name: b.fresh(output + "/masked"), inputs: [gathered, scale], output: output, shape: b.graph.shapes[output])
    }

    /// A final state N×H, zero where no step was kept.
    func state(_ raw: String, counts: String, output: String, _ b: inout ONNXGraphBuilder) {
        let name = node.name
        let any = b.fresh(name + "/any_kept"), column = b.fresh(name + "/any_kept_column")
        b.add("Min", name: any, inputs: [counts, b.scalar(name + "/one", 1)], output: any, shape: [batch])
        b.add("Unsqueeze", name: column, inputs: [any, b.int64s(name + "/column_axis", [1])], output: column, shape: [batch, 1])
        b.add("Mul", name: b.fresh(output + "/masked"), inputs: [raw, column], output: output, shape: b.graph.shapes[output])
    }

    /// `GatherElements` of the steps `index` N×L (int64) of `x` N×L×`width`.
    private func gatherSteps(_ x: String, at index: String, width: Int, name: String, _ b: inout ONNXGraphBuilder) -> String {
        let column = b.fresh(name + "/index"), shape = b.fresh(name + "/shape"), expanded = b.fresh(name + "/index_expanded"), out = b.fresh(name)
        b.add("Unsqueeze", name: column, inputs: [index, b.int64s(name + "/index_axis", [2])], output: column, shape: [batch, steps, 1], elemType: ONNXDataType.int64)
        b.add("Shape", name: shape, inputs: [x], output: shape, shape: [3], elemType: ONNXDataType.int64)
        b.add("Expand", name: expanded, inputs: [column, shape], output: expanded, shape: [batch, steps, width], elemType: ONNXDataType.int64)
        b.add("GatherElements", name: out, inputs: [x, expanded], output: out, attributes: [.int("axis", 1)], shape: [batch, steps, width])
        return out
    }
}

/// A recurrent node ModelPress wrote masked, as the importer reads it: its sequence, step mask
/// and outputs (values of the file as read), and what it writes at skipped steps.
struct MaskedRecurrence {
    var input: String
    var mask: String
    var outputs: [String]
    var skipped: Recurrent.MaskedOutput
}

// Import: a masked recurrent layer ModelPress wrote, from its metadata record
extension ONNXImportContext {
    /// Marks each recorded recurrent node to be read as one masked IR node and absorbs the
    /// other nodes of its lowering; fails when the graph no longer has them (an edited file).
    mutating func readMaskedRecurrences(_ records: [MaskedRecurrenceRecord]) throws {
        let index = Dictionary(onnx.node.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        for record in records {
            guard let i = index[record.node], ["LSTM", "GRU", "RNN"].contains(onnx.node[i].opType), ["state", "zero"].contains(record.skipped) else {
                throw fail(location: "metadata '\(MaskedRecurrenceRecord.metadataKey)'", "names recurrent node '\(record.node)', which the graph does not have")
            }
            let inner = try record.nodes.map { name in
                guard let k = index[name] else {
                    throw fail(location: "metadata '\(MaskedRecurrenceRecord.metadataKey)'", "names node '\(name)', which the graph does not have")
                }
                return k
            }
            guard let sequence = index[record.sequenceReader], let mask = index[record.maskReader],
                let writers = Optional(record.outputWriters.compactMap { index[$0] }), writers.count == record.outputWriters.count
            else {
                throw fail(location: "metadata '\(MaskedRecurrenceRecord.metadataKey)'", "names nodes around '\(record.node)' that the graph does not have")
            }
            maskedRecurrences[i] = MaskedRecurrence(
                input: onnx.node[sequence].input[0], mask: onnx.node[mask].input[0], outputs: writers.map { onnx.node[$0].output[0] },
                skipped: record.skipped == "zero" ? .zero : .state)
            absorbed.formUnion(inner)
        }
    }
}
