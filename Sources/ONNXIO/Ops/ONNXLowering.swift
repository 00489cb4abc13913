import ONNXProto
import TensorCore

/// The ONNX form of an op: one conformance per op in `ONNXIO/Ops/<Op>+ONNX.swift`, holding
/// both directions so the round trip is read (and tested) together: `lower` writes the IR
/// node as standard ONNX nodes for the builder's opset (opset-specific spellings are named
/// `lower…_<opset>`), and the same file's `ONNXImportContext` extension reads those nodes
/// (and what other exporters write) back into the op. The importer's dispatch by ONNX op type
/// is the name table in `ONNXImporter+Ops.swift`.
protocol ONNXLowering: OpDefinition {
    /// Appends the ONNX nodes computing `node` (its inputs are already defined); the last one
    /// is named after the node and writes its outputs.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws
    /// Whether the ONNX op it writes accepts 8-bit integer tensors unchanged, so the QOperator
    /// form runs it between quantized values instead of around DequantizeLinear/QuantizeLinear
    /// (read for `QuantizationRole.transparent` ops only).
    var lowersOnIntegers: Bool { get }
}

extension Op {
    /// The op's ONNX lowering.
    var onnx: any ONNXLowering {
        switch self {
        case .conv2D(let op): op
        case .convTranspose2D(let op): op
        case .linear(let op): op
        case .batchNormalization(let op): op
        case .activation(let op): op
        case .prelu(let op): op
        case .softmax(let op): op
        case .maxPool2D(let op): op
        case .averagePool2D(let op): op
        case .globalAveragePool(let op): op
        case .globalMaxPool(let op): op
        case .flatten(let op): op
        case .reshape(let op): op
        case .transpose(let op): op
        case .elementwise(let op): op
        case .concat(let op): op
        case .pad(let op): op
        case .slice(let op): op
        case .upsampleNearest(let op): op
        case .resizeBilinear(let op): op
        case .identity(let op): op
        case .split(let op): op
        case .layerNormalization(let op): op
        case .reduceMean(let op): op
        case .tile(let op): op
        case .embedding(let op): op
        case .recurrent(let op): op
        case .reverse(let op): op
        case .stepMask(let op): op
        case .matMul(let op): op
        case .expandBatch(let op): op
        }
    }
}

extension ONNXGraphBuilder {
    /// Lowers `node` (its inputs are already defined).
    mutating func lower(_ node: Node) throws {
        try node.op.onnx.lower(node, &self)
    }

    /// `layer: NAME` when the node's source layer differs from its name (read back on import).
    func layerDoc(_ node: Node) -> String { node.layer == node.name ? "" : "layer: \(node.layer)" }

    /// One ONNX node named after `node`, writing its output, reading `inputs` (default: the node's).
    mutating func single(_ node: Node, _ opType: String, _ attributes: [Onnx_AttributeProto] = [], inputs: [String]? = nil) {
        add(
            opType, name: node.name, inputs: inputs ?? node.inputs, output: node.output, attributes: attributes,
            shape: graph.shapes[node.output], docString: layerDoc(node))
    }
}

extension Onnx_AttributeProto {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto { ONNXAttribute.int(name, value) }
    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto { ONNXAttribute.ints(name, values) }
    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto { ONNXAttribute.float(name, value) }
    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto { ONNXAttribute.string(name, value) }
}
