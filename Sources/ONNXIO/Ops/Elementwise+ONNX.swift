import ONNXProto
import TensorCore

extension ElementwiseOp: ONNXLowering {
    /// Binary Add/Sub/Mul/Div, variadic Sum/Max/Min/Mean; Mul of more than two inputs becomes
    /// a chain of binary Muls.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        switch self {
        case .add: b.single(node, node.inputs.count == 2 ? "Add" : "Sum")
        case .subtract: b.single(node, "Sub")
        case .divide: b.single(node, "Div")
        case .maximum: b.single(node, "Max")
        case .minimum: b.single(node, "Min")
        case .mean: b.single(node, "Mean")
        case .multiply:
            guard node.inputs.count > 2 else { return b.single(node, node.inputs.count == 2 ? "Mul" : "Identity") }
            var acc = node.inputs[0]
            for input in node.inputs.dropFirst().dropLast() {
                let partial = b.fresh(node.name + "/mul")
                let partialShape = ShapeInference.broadcastShape(b.graph.shapes[acc] ?? [], b.graph.shapes[input] ?? [])
                b.add("Mul", name: partial, inputs: [acc, input], output: partial, shape: partialShape)
                acc = partial
            }
            b.single(node, "Mul", inputs: [acc, node.inputs[node.inputs.count - 1]])
        }
    }
    var lowersOnIntegers: Bool { false }
}

// Import: Add, Sub, Mul, Div, Max, Min, Sum, Mean
extension ONNXImportContext {
    /// Add/Sub/Mul/Div (binary) and Max/Min/Sum/Mean (variadic); constant operands become initializers.
    mutating func importElementwise(_ node: Onnx_NodeProto, _ i: Int) throws {
        let kind: ElementwiseOp
        switch node.opType {
        case "Add", "Sum": kind = .add
        case "Sub": kind = .subtract
        case "Mul": kind = .multiply
        case "Div": kind = .divide
        case "Max": kind = .maximum
        case "Min": kind = .minimum
        default: kind = .mean
        }
        guard !node.input.isEmpty, node.input.contains(where: { constants[$0] == nil }) else {
            throw fail(node, "computes on constants only; fold constants first (e.g. onnxsim)")
        }
        try emit(node, i, .elementwise(kind), node.input)
    }
}
