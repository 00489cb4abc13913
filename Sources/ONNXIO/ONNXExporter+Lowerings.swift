import ONNXProto
import TensorCore

/// One IR op → ONNX nodes. The last node of every lowering is named after the IR node and
/// writes the IR node's output; helper nodes and constants get fresh `<node>/<role>` names.
/// `ONNXImporter` recognises each multi-node lowering and rebuilds the IR node from it.
extension ONNXGraphBuilder {
    /// Lowers `node` (its inputs are already defined).
    mutating func lower(_ node: Node) throws {
        let shape = graph.shapes[node.output]
        let doc = node.layer == node.name ? "" : "layer: \(node.layer)"
        func single(_ opType: String, _ attributes: [Onnx_AttributeProto] = [], inputs: [String]? = nil) {
            add(opType, name: node.name, inputs: inputs ?? node.inputs, output: node.output, attributes: attributes, shape: shape, docString: doc)
        }
        switch node.op {
        case .conv2D(let a):
            single("Conv", [.ints("dilations", a.dilations), .int("group", a.group), .ints("kernel_shape", a.kernel),
                            .ints("pads", a.pads), .ints("strides", a.strides)])
        case .linear:
            lowerLinear(node, doc: doc)
        case .batchNormalization(let epsilon):
            single("BatchNormalization", [.float("epsilon", epsilon)])
        case .activation(let f):
            try lowerActivation(f, node, doc: doc)
        case .prelu:
            single("PRelu")
        case .softmax(let axis):
            single("Softmax", [.int("axis", axis)])
        case .maxPool2D(let a):
            single("MaxPool", [.ints("kernel_shape", a.kernel), .ints("pads", a.pads), .ints("strides", a.strides)])
        case .averagePool2D(let a):
            single("AveragePool", [.ints("kernel_shape", a.kernel), .ints("pads", a.pads), .ints("strides", a.strides)])
        case .globalAveragePool:
            single("GlobalAveragePool")
        case .globalMaxPool:
            single("GlobalMaxPool")
        case .flatten:
            single("Flatten", [.int("axis", 1)])
        case .reshape(let target):
            let shapeName = int64s(node.name + "/shape", [-1] + target)
            single("Reshape", inputs: [node.inputs[0], shapeName])
        case .transpose(let perm):
            single("Transpose", [.ints("perm", perm)])
        case .elementwise(let kind):
            lowerElementwise(kind, node, doc: doc)
        case .concat(let axis):
            single("Concat", [.int("axis", axis)])
        case .pad(let pads):
            let padsName = int64s(node.name + "/pads", pads)
            single("Pad", inputs: [node.inputs[0], padsName])
        case .slice(let begin, let end):
            lowerSlice(node, begin: begin, end: end, doc: doc)
        case .upsampleNearest(let scales):
            let scalesName = constant(node.name + "/scales", try Tensor(shape: [scales.count], storage: scales.map(Float.init)))
            single("Resize", [.string("coordinate_transformation_mode", "asymmetric"), .string("mode", "nearest"),
                              .string("nearest_mode", "floor")], inputs: [node.inputs[0], "", scalesName])
        case .identity:
            single("Identity")
        }
    }

    /// `.linear`: Gemm for N×K input (transB = 0), else MatMul followed by Add for the bias.
    mutating func lowerLinear(_ node: Node, doc: String) {
        let shape = graph.shapes[node.output]
        let hasBias = node.inputs.count > 2 && !node.inputs[2].isEmpty
        if graph.shapes[node.inputs[0]]?.count == 2 {
            add("Gemm", name: node.name, inputs: node.inputs, output: node.output, shape: shape, docString: doc)
        } else if hasBias {
            let product = fresh(node.name + "/matmul")
            add("MatMul", name: product, inputs: [node.inputs[0], node.inputs[1]], output: product, shape: shape)
            add("Add", name: node.name, inputs: [product, node.inputs[2]], output: node.output, shape: shape, docString: doc)
        } else {
            add("MatMul", name: node.name, inputs: Array(node.inputs.prefix(2)), output: node.output, shape: shape, docString: doc)
        }
    }

    /// Elementwise ops: binary Add/Sub/Mul/Div, variadic Sum/Max/Min/Mean; Mul of more than two
    /// inputs becomes a chain of binary Muls.
    mutating func lowerElementwise(_ kind: ElementwiseOp, _ node: Node, doc: String) {
        let shape = graph.shapes[node.output]
        let opType: String
        switch kind {
        case .add: opType = node.inputs.count == 2 ? "Add" : "Sum"
        case .subtract: opType = "Sub"
        case .divide: opType = "Div"
        case .maximum: opType = "Max"
        case .minimum: opType = "Min"
        case .mean: opType = "Mean"
        case .multiply:
            guard node.inputs.count > 2 else {
                add(node.inputs.count == 2 ? "Mul" : "Identity", name: node.name, inputs: node.inputs, output: node.output, shape: shape, docString: doc)
                return
            }
            var acc = node.inputs[0]
            for input in node.inputs.dropFirst().dropLast() {
                let partial = fresh(node.name + "/mul")
                let partialShape = ShapeInference.broadcastShape(graph.shapes[acc] ?? [], graph.shapes[input] ?? [])
                add("Mul", name: partial, inputs: [acc, input], output: partial, shape: partialShape)
                acc = partial
            }
            add("Mul", name: node.name, inputs: [acc, node.inputs[node.inputs.count - 1]], output: node.output, shape: shape, docString: doc)
            return
        }
        add(opType, name: node.name, inputs: node.inputs, output: node.output, shape: shape, docString: doc)
    }

    /// `.slice`: Slice with int64 `starts`, `ends`, `axes` over the cropped non-batch axes.
    mutating func lowerSlice(_ node: Node, begin: [Int], end: [Int], doc: String) {
        let x = graph.shapes[node.inputs[0]] ?? []
        var axes = (1..<max(1, x.count)).filter { begin[$0] != 0 || end[$0] != x[$0] }
        if axes.isEmpty { axes = Array(1..<max(1, x.count)) }
        let starts = int64s(node.name + "/starts", axes.map { begin[$0] })
        let ends = int64s(node.name + "/ends", axes.map { end[$0] })
        let axesName = int64s(node.name + "/axes", axes)
        add("Slice", name: node.name, inputs: [node.inputs[0], starts, ends, axesName], output: node.output,
            shape: graph.shapes[node.output], docString: doc)
    }
}

extension Onnx_AttributeProto {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto { ONNXAttribute.int(name, value) }
    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto { ONNXAttribute.ints(name, values) }
    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto { ONNXAttribute.float(name, value) }
    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto { ONNXAttribute.string(name, value) }
}
