import Foundation
import ONNXProto
import TensorCore

/// Accumulates the ONNX graph while IR nodes are lowered: nodes in order, initializers in
/// first-use order, `value_info` for every intermediate, and fresh names that collide with
/// nothing in the IR (so the same IR always yields the same names and bytes).
struct ONNXGraphBuilder {
    /// Target opset of the default domain.
    let opset: Int
    /// The IR being lowered (shapes, initializers).
    let graph: Graph
    /// Values the exporter renamed (dequantized or requantized copies) → the IR value they hold.
    private var aliases: [String: String] = [:]
    /// Quantized weights a lowering re-lays out itself (a recurrent layer's, into ONNX's gate
    /// order), by IR name: the float values and their int8 parameters (`relaidWeight`).
    var relaidWeights: [String: (tensor: Tensor, quantization: TensorQuantization)] = [:]
    /// The masked recurrent layers lowered so far, for the file's metadata (`MaskedRecurrenceRecord`).
    var maskedRecurrences: [MaskedRecurrenceRecord] = []
    /// The ONNX nodes so far, in order.
    var nodes: [Onnx_NodeProto] = []
    /// The initializers so far, in first-use order.
    var initializers: [Onnx_TensorProto] = []
    /// `value_info` of the intermediates so far.
    var valueInfo: [Onnx_ValueInfoProto] = []
    /// The element type of every output `add` wrote (also those without `value_info`).
    var elementTypes: [String: Int32] = [:]
    private var emitted = Set<String>()
    private var taken: Set<String>
    private let outputNames: Set<String>

    /// Records that `value` holds what `original` holds (a dequantized or renamed copy).
    mutating func alias(_ value: String, of original: String) {
        aliases[value] = aliases[original] ?? original
    }

    /// The IR value `value` holds (itself, or the value a renamed copy stands for).
    func irValue(_ value: String) -> String { aliases[value] ?? value }

    /// The IR shape of `value`, also for the exporter's renamed copies of IR values.
    func shape(of value: String) -> [Int]? {
        graph.shapes[value] ?? aliases[value].flatMap { graph.shapes[$0] }
    }

    /// A builder for `graph` at `opset`.
    init(graph: Graph, opset: Int) {
        self.opset = opset
        self.graph = graph
        var names = Set(graph.shapes.keys)
        for node in graph.nodes { names.insert(node.name); names.formUnion(node.outputs) }
        taken = names
        outputNames = Set(graph.outputs.map(\.name))
    }

    /// A name starting with `base` used by nothing else in the graph; reserves it.
    mutating func fresh(_ base: String) -> String {
        var name = base, i = 1
        while taken.contains(name) { name = "\(base)_\(i)"; i += 1 }
        taken.insert(name)
        return name
    }

    /// Appends a node; `shape` (IR form, batch `-1`) and `elemType` describe the output for
    /// `value_info` (left out for graph outputs). IR initializers among `inputs` are emitted
    /// at their first use; trailing empty (absent optional) inputs are dropped.
    mutating func add(
        _ opType: String, name: String, inputs: [String], output: String,
        attributes: [Onnx_AttributeProto] = [], shape: [Int]?, elemType: Int32 = ONNXDataType.float,
        docString: String = ""
    ) {
        add(opType, name: name, inputs: inputs, outputs: [output], attributes: attributes, shapes: [shape], elemType: elemType, docString: docString)
    }

    /// Appends a node with several outputs (`shapes` aligned with `outputs`, `elemTypes` too when
    /// they differ); see the single-output form.
    mutating func add(
        _ opType: String, name: String, inputs: [String], outputs: [String],
        attributes: [Onnx_AttributeProto] = [], shapes: [[Int]?], elemType: Int32 = ONNXDataType.float, elemTypes: [Int32]? = nil,
        docString: String = ""
    ) {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = name
        var ins = inputs
        while ins.last == "" { ins.removeLast() }
        node.input = ins
        node.output = outputs
        node.attribute = attributes
        node.docString = docString
        for input in ins where !input.isEmpty && !emitted.contains(input) {
            if let tensor = graph.initializers[input] {
                initializers.append(ONNXTensor.float(input, tensor))
                emitted.insert(input)
            }
        }
        nodes.append(node)
        for (k, (output, shape)) in zip(outputs, shapes).enumerated() {
            elementTypes[output] = elemTypes?[k] ?? elemType
            if let shape, !outputNames.contains(output) { valueInfo.append(Self.valueInfo(output, shape: shape, elemType: elemTypes?[k] ?? elemType)) }
        }
    }

    /// Appends a node built by the caller (several outputs, e.g. DynamicQuantizeLinear); its
    /// inputs must already be defined (no IR initializer is emitted for it).
    mutating func append(_ node: Onnx_NodeProto) {
        nodes.append(node)
    }

    /// A new float32 constant (initializer) named after `base`; returns its name.
    mutating func constant(_ base: String, _ tensor: Tensor) -> String {
        let name = fresh(base)
        initializers.append(ONNXTensor.float(name, tensor))
        emitted.insert(name)
        return name
    }

    /// Appends an initializer whose name the caller made with `fresh`.
    mutating func appendInitializer(_ proto: Onnx_TensorProto) {
        initializers.append(proto)
        emitted.insert(proto.name)
    }

    /// A new float32 scalar constant named after `base`.
    mutating func scalar(_ base: String, _ value: Float) -> String {
        constant(base, Tensor(scalar: value))
    }

    /// A new int64 1-D constant named after `base`.
    mutating func int64s(_ base: String, _ values: [Int]) -> String {
        let name = fresh(base)
        initializers.append(ONNXTensor.int64(name, values.map(Int64.init), shape: [values.count]))
        emitted.insert(name)
        return name
    }

    /// A `ValueInfoProto` for a tensor of `shape` (IR form: `dynamicBatch` becomes the symbolic `N`).
    static func valueInfo(_ name: String, shape: [Int], elemType: Int32 = ONNXDataType.float) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = elemType
        var shapeProto = Onnx_TensorShapeProto()
        shapeProto.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if d < 0 { dim.dimParam = "N" } else { dim.dimValue = Int64(d) }
            return dim
        }
        tensorType.shape = shapeProto
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }
}
