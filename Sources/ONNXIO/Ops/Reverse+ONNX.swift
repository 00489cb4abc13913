import ONNXProto
import TensorCore

extension Reverse: ONNXLowering {
    /// `Slice` of the whole axis with step −1 (starts −1, ends INT64_MIN).
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        let starts = b.int64s(node.name + "/starts", [-1])
        let ends = b.int64s(node.name + "/ends", [Int(Int64.min)])
        let axes = b.int64s(node.name + "/axes", [axis])
        let steps = b.int64s(node.name + "/steps", [-1])
        b.single(node, "Slice", inputs: [node.inputs[0], starts, ends, axes, steps])
    }
    var lowersOnIntegers: Bool { true }
}
