import ONNXProto
import TensorCore

extension Tile: ONNXLowering {
    /// `Tile` with an int64 `repeats` input.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        b.single(node, "Tile", inputs: [node.inputs[0], b.int64s(node.name + "/repeats", repeats)])
    }
    var lowersOnIntegers: Bool { true }
}

// Import: Tile
extension ONNXImportContext {
    /// Tile with constant repeats that leave the batch axis alone.
    mutating func importTile(_ node: Onnx_NodeProto, _ i: Int) throws {
        let rank = try shape(node.input[0], node).count
        guard let repeats = try integers(node, 1, what: "repeats"), repeats.count == rank, repeats.first == 1, repeats.allSatisfy({ $0 >= 1 }) else {
            throw fail(node, "repeats must be one positive count per axis, 1 on the batch axis")
        }
        try emit(node, i, .tile(Tile(repeats)), [node.input[0]])
    }
}
