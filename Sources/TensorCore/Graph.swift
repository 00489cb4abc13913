/// The batch dimension in IR shapes: unknown until run time.
public let dynamicBatch = -1

/// A named value with its shape (batch first, `dynamicBatch` for the batch dimension).
public struct ValueInfo: Equatable, Sendable {
    /// The value's name, unique in the graph.
    public var name: String
    /// Its shape; `shape[0]` is the batch dimension.
    public var shape: [Int]
    /// The element type files declare for it: token ids are integers; every engine value is
    /// float32 (integers up to 2^24 are exact there).
    public var elementType: ElementType

    /// A value named `name` of shape `shape` and element type `elementType`.
    public init(name: String, shape: [Int], elementType: ElementType = .float32) {
        self.name = name
        self.shape = shape
        self.elementType = elementType
    }
}

/// The element type a graph input or output is declared with.
public enum ElementType: String, Equatable, Sendable {
    /// 32-bit float (images, features, every computed value).
    case float32
    /// 32-bit integers (token ids as Keras declares them).
    case int32
    /// 64-bit integers (token ids as ONNX exporters declare them).
    case int64
}

/// One operation in the graph: reads named values (activations or initializers), writes one
/// or more.
public struct Node: Equatable, Sendable {
    /// Unique node name (derived from the source layer name).
    public var name: String
    /// The operation.
    public var op: Op
    /// Names of input values in the order `op.definition.signature` gives; absent optional
    /// inputs are left out (look them up by role: `input(.bias)`).
    public var inputs: [String]
    /// Names of the output values, in the op's order (most ops have one).
    public var outputs: [String]
    /// Name of the source model's layer this node came from.
    public var layer: String

    /// A node with one output; `layer` defaults to `name`.
    public init(name: String, op: Op, inputs: [String], output: String, layer: String? = nil) {
        self.init(name: name, op: op, inputs: inputs, outputs: [output], layer: layer)
    }

    /// A node with several outputs; `layer` defaults to `name`.
    public init(name: String, op: Op, inputs: [String], outputs: [String], layer: String? = nil) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.layer = layer ?? name
    }

    /// The first (for most ops the only) output.
    public var output: String {
        get { outputs[0] }
        set { outputs[0] = newValue }
    }

    /// The input playing `role` in the op's signature, if the node has it.
    public func input(_ role: InputRole) -> String? {
        guard let i = op.definition.signature.position(of: role), i < inputs.count else { return nil }
        return inputs[i]
    }

    /// The bias input of a Conv or Linear node, if it has one.
    public var bias: String? { input(.bias) }
}

/// The graph IR: inputs, topologically ordered nodes, outputs, initializers (weights) and
/// the static shape of every value.
public struct Graph: Equatable, Sendable {
    /// Model name.
    public var name: String
    /// Graph inputs, in the model's order; image inputs are NHWC as users give them.
    public var inputs: [ValueInfo]
    /// Graph outputs, in the model's order.
    public var outputs: [ValueInfo]
    /// Nodes in an order where every input is produced before it is read.
    public var nodes: [Node]
    /// Constant tensors (weights) by name.
    public var initializers: [String: Tensor]
    /// Shape of every value (inputs, node outputs, initializers), batch first.
    public var shapes: [String: [Int]]
    /// Free-form provenance (source file, format, Keras version, ...).
    public var metadata: [String: String]
    /// Quantization annotations by value name (initializers and activations): each annotated
    /// value is read through quantize → dequantize (see `TensorQuantization`).
    public var quantization: [String: TensorQuantization]
    /// Values held in float16 (`--precision fp16`): initializers stored half, activations written
    /// by nodes that compute in float16, graph inputs and outputs declared float16. A node
    /// computes in float16 when its outputs are here; every other value is float32.
    public var halfPrecision: Set<String>

    /// An empty graph named `name`.
    public init(name: String) {
        self.name = name
        self.inputs = []
        self.outputs = []
        self.nodes = []
        self.initializers = [:]
        self.shapes = [:]
        self.metadata = [:]
        self.quantization = [:]
        self.halfPrecision = []
    }

    /// Adds `node` after checking its inputs exist, inferring and recording its output shapes.
    public mutating func append(_ node: Node) throws {
        let inputShapes: [[Int]] = try node.inputs.map { input in
            guard let shape = shapes[input] else {
                throw ModelPressError.internalError("node '\(node.name)' reads '\(input)', which is not defined before it")
            }
            return shape
        }
        let outputShapes = try ShapeInference.outputShapes(of: node.op, inputs: inputShapes, node: node.name)
        guard outputShapes.count == node.outputs.count else {
            throw ModelPressError.internalError("node '\(node.name)' (\(node.op.name)) names \(node.outputs.count) outputs; the op writes \(outputShapes.count)")
        }
        for (output, shape) in zip(node.outputs, outputShapes) {
            guard shapes[output] == nil, !output.isEmpty else {
                throw ModelPressError.internalError("value '\(output)' is defined twice")
            }
            // Kernels assume non-empty tensors: refuse zero-size values here, once for every op.
            guard shape.allSatisfy({ $0 >= 1 || $0 == dynamicBatch }) else {
                throw ModelPressError.invalidModel(
                    file: "", location: "node '\(node.name)' (\(node.op.name))",
                    message: "would produce an empty tensor of shape \(shape)",
                    hint: "the model's shapes leave no elements; check the layer configuration")
            }
            shapes[output] = shape
        }
        nodes.append(node)
    }

    /// Adds a constant tensor.
    public mutating func addInitializer(_ name: String, _ tensor: Tensor) throws {
        guard tensor.count > 0 else {
            throw ModelPressError.invalidModel(
                file: "", location: "weight '\(name)'", message: "is empty (shape \(tensor.shape))",
                hint: "the model's weights do not fit its layers; re-save the model")
        }
        guard shapes[name] == nil else {
            throw ModelPressError.internalError("value '\(name)' is defined twice")
        }
        initializers[name] = tensor
        shapes[name] = tensor.shape
    }

    /// Declares a graph input.
    public mutating func addInput(_ info: ValueInfo) throws {
        guard shapes[info.name] == nil else {
            throw ModelPressError.internalError("value '\(info.name)' is defined twice")
        }
        inputs.append(info)
        shapes[info.name] = info.shape
    }

    /// A name not yet used by any value in the graph, built from `base`.
    public func uniqueName(_ base: String) -> String {
        if shapes[base] == nil { return base }
        var i = 1
        while shapes["\(base)_\(i)"] != nil { i += 1 }
        return "\(base)_\(i)"
    }
}
