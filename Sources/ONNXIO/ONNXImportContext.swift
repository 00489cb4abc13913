import Foundation
import ONNXProto
import TensorCore

/// A constant value of the ONNX graph (initializer or `Constant` output): float32 values
/// (integers converted) and, for integer tensors, the exact integers.
struct ONNXConstant {
    var tensor: Tensor
    var integers: [Int64]?
    var shape: [Int] { tensor.shape }
}

/// A tensor of one number whose shape depends on the batch size; its rank where known.
struct Fill {
    var value: Double
    var rank: Int?
}

/// The state of one import: the ONNX graph, its constants, which nodes fused patterns absorbed,
/// and the IR graph being built.
struct ONNXImportContext {
    let file: String
    let opset: Int
    /// Sizes for symbolic input axes (`--dim`, or the data's).
    let dimensions: InputDimensions
    /// The sizes given to symbolic input axes, by name (one name is one size across inputs).
    var boundSymbols: [String: Int] = [:]
    /// The ONNX graph; its initializers are in `constants`, not here.
    let onnx: Onnx_GraphProto
    var graph: Graph
    var constants: [String: ONNXConstant] = [:]
    /// Values folded at import time with entries that depend on the batch size (see `Folding/`).
    var partial: [String: KnownTensor] = [:]
    /// Nodes evaluated by constant folding before patterns are matched.
    var folded = Set<Int>()
    /// Node index → indices of nodes reading its output, and value → producing node index.
    var readers: [String: [Int]] = [:]
    var producer: [String: Int] = [:]
    let outputNames: Set<String>
    /// Nodes folded into a pattern anchored at a later node, and the IR nodes that replace anchors.
    var absorbed = Set<Int>()
    var fused: [Int: Node] = [:]
    /// ONNX values that are a batch-major IR value with its first two axes swapped (the
    /// time-major sequences around recurrent nodes), and recurrent outputs with a direction
    /// axis (`Recurrent+ONNX.swift`); neither has an IR value of its own.
    var timeMajor: [String: String] = [:]
    var directional: [String: DirectionalValue] = [:]
    /// Values filled with one number whose shape depends on the batch size (`ConstantOfShape`
    /// of a shape computation, and data movement of it): PyTorch's zero initial states, BERT's
    /// token types.
    var filled: [String: Fill] = [:]
    /// Recurrent nodes ModelPress wrote masked, by node index (`readMaskedRecurrences`).
    var maskedRecurrences: [Int: MaskedRecurrence] = [:]

    /// The context of importing `onnx`, its constants made from `initializers` (emptied as they
    /// are read) and `weights` (float tensors made already, the dequantized QDQ weights).
    init(
        file: String, opset: Int, graph onnx: Onnx_GraphProto, initializers: inout [Onnx_TensorProto], weights: [String: Tensor] = [:],
        dimensions: InputDimensions = .none
    ) throws {
        self.file = file
        self.opset = opset
        self.dimensions = dimensions
        self.onnx = onnx
        self.graph = Graph(name: onnx.name.isEmpty ? "model" : onnx.name)
        self.outputNames = Set(onnx.output.map(\.name))
        for (i, node) in onnx.node.enumerated() {
            for input in node.input where !input.isEmpty { readers[input, default: []].append(i) }
            for output in node.output where !output.isEmpty { producer[output] = i }
        }
        // Emptied as it goes, so each initializer's bytes are freed once its tensor exists.
        while let proto = initializers.popLast() {
            constants[proto.name] = try constant(proto, location: "initializer '\(proto.name)'")
        }
        for (name, tensor) in weights { constants[name] = ONNXConstant(tensor: tensor, integers: nil) }
        for proto in onnx.sparseInitializer {
            let location = "sparse initializer '\(proto.values.name)'"
            constants[proto.values.name] = try ONNXSparse.densify(proto) { [file] in .invalidModel(file: file, location: location, message: $0, hint: "re-export the model") }
        }
    }

    /// Builds the IR: inputs, fused patterns, one conversion per remaining node, outputs.
    mutating func run() throws -> Graph {
        let inputs = onnx.input.filter { constants[$0.name] == nil }
        for (position, input) in inputs.enumerated() {
            guard graph.shapes[input.name] == nil else { throw fail(location: "graph input '\(input.name)'", "is declared twice") }
            let type = try elementType(input)
            try graph.addInput(ValueInfo(name: input.name, shape: try inputShape(input, position: position, of: inputs.count), elementType: type))
        }
        if let (i, loop) = onnx.node.enumerated().first(where: { ["Loop", "Scan", "If"].contains($0.element.opType) }) {
            throw ModelPressError.invalidModel(
                file: file, location: "node '\(loop.name)' (\(loop.opType), node \(i))",
                message: "is control flow, which ModelPress does not import (tf2onnx writes recurrent layers it cannot map to LSTM / GRU / RNN as a Loop: Keras 3 layers, SimpleRNN)",
                hint: "give ModelPress the Keras file itself, or export with torch.onnx.export or tf2onnx from tf-keras, which write LSTM / GRU as ONNX operators")
        }
        try foldConstantNodes()
        findPatterns()
        for (i, node) in onnx.node.enumerated() where !absorbed.contains(i) && !folded.contains(i) {
            do {
                if let replacement = fused[i] {
                    guard graph.shapes[replacement.output] == nil else { throw fail(node, "writes '\(replacement.output)', which is already defined") }
                    try requireDefined(replacement.inputs, node)
                    let resolved = try resolvedFused(replacement, node)
                    try materialize(resolved.inputs)
                    try graph.append(resolved)
                } else {
                    try convert(node, index: i)
                }
            } catch let error as ModelPressError {
                throw error.attributed(to: file)
            }
        }
        guard !onnx.output.isEmpty else { throw fail(location: "ONNX graph", "declares no outputs") }
        for output in onnx.output {
            guard let shape = graph.shapes[output.name], graph.initializers[output.name] == nil else {
                throw fail(location: "graph output '\(output.name)'", "is not computed by any node")
            }
            graph.outputs.append(ValueInfo(name: output.name, shape: shape))
        }
        return graph
    }

    /// The declared element type of a graph input: float32 (also for float16 inputs, which
    /// `Graph.halfPrecision` holds), or int32 / int64 ids.
    private func elementType(_ input: Onnx_ValueInfoProto) throws -> ElementType {
        guard case .tensorType(let t)? = input.type.value else { throw fail(location: "graph input '\(input.name)'", "is not a tensor") }
        if t.elemType == ONNXDataType.float16 { return .float32 }
        guard let type = ONNXDataType.elementType(of: t.elemType) else {
            throw fail(location: "graph input '\(input.name)'", "has element type \(t.elemType); ModelPress reads float32 and float16 inputs, and int32 / int64 ids")
        }
        return type
    }

    /// The IR shape of a graph input: the first dimension is the batch; a symbolic or unknown
    /// size elsewhere is fixed from `dimensions` (by its name, else from the data), one size per
    /// name across the inputs.
    private mutating func inputShape(_ input: Onnx_ValueInfoProto, position: Int, of count: Int) throws -> [Int] {
        guard case .tensorType(let t)? = input.type.value else {
            throw fail(location: "graph input '\(input.name)'", "is not a tensor")
        }
        let dims = t.shape.dim
        guard !dims.isEmpty else { throw fail(location: "graph input '\(input.name)'", "has no shape") }
        var shape = [dynamicBatch]
        for (axis, dim) in dims.enumerated().dropFirst() {
            if case .dimValue(let v)? = dim.value, v > 0 {
                shape.append(Int(v))
                continue
            }
            let symbol = dim.dimParam
            guard let size = dimensions.size(symbol: symbol, input: input.name, position: position, inputCount: count, axis: axis, rank: dims.count) else {
                let named = symbol.isEmpty ? "an unknown size" : "the symbolic size '\(symbol)'"
                throw ModelPressError.invalidModel(
                    file: file, location: "graph input '\(input.name)'", message: "has \(named) on axis \(axis); ModelPress fixes every size but the batch when it loads a model",
                    hint: symbol.isEmpty
                        ? "give the data it runs on (--data), or re-export the model with a fixed size on that axis"
                        : "pass --dim \(symbol)=SIZE, or give the data it runs on (--data): the size is read from it")
            }
            guard size >= 1, size <= 1 << 24 else { throw fail(location: "graph input '\(input.name)'", "gets size \(size) on axis \(axis)") }
            if !symbol.isEmpty {
                if let bound = boundSymbols[symbol], bound != size {
                    throw fail(location: "graph input '\(input.name)'", "gets size \(size) on axis \(axis) ('\(symbol)'), which another input fixed to \(bound); the data's inputs must agree")
                }
                boundSymbols[symbol] = size
            }
            shape.append(size)
        }
        return shape
    }

    /// A constant from a `TensorProto`.
    func constant(_ proto: Onnx_TensorProto, location: String) throws -> ONNXConstant {
        let f = { (message: String) in self.fail(location: location, message) }
        let tensor = try ONNXTensor.floats(proto, f)
        let isFloat = [ONNXDataType.float, ONNXDataType.double, ONNXDataType.float16].contains(proto.dataType)
        return ONNXConstant(tensor: tensor, integers: isFloat ? nil : try ONNXTensor.int64s(proto, f))
    }

    /// Adds the constants among `names` to the IR as initializers (once each).
    mutating func materialize(_ names: [String]) throws {
        for name in names where !name.isEmpty && graph.shapes[name] == nil {
            if let c = constants[name] { try graph.addInitializer(name, c.tensor) }
        }
    }

    /// An error about the model at `location`.
    func fail(location: String, _ message: String) -> ModelPressError {
        .invalidModel(file: file, location: location, message: message, hint: "re-export the model, or simplify it (e.g. onnxsim) so shapes and weights are constant")
    }

    /// An error about `node`.
    func fail(_ node: Onnx_NodeProto, _ message: String) -> ModelPressError {
        fail(location: "node '\(node.name)' (\(node.opType))", message)
    }

    /// Checks that every one of `names` read by `node` is a computed value or a constant.
    func requireDefined(_ names: [String], _ node: Onnx_NodeProto) throws {
        for name in names where graph.shapes[name] == nil && constants[name] == nil {
            if partial[name] != nil { throw dependsOnBatch(node, name) }
            _ = try shape(name, node)  // names a time-major view or a batch-sized fill
            throw fail(node, "reads '\(name)', which no earlier node, initializer or graph input defines")
        }
    }

    /// The constant `name` read by `node`, or an error saying it must be constant.
    func constantInput(_ node: Onnx_NodeProto, _ index: Int, what: String) throws -> ONNXConstant {
        if index < node.input.count, partial[node.input[index]] != nil { throw dependsOnBatch(node, node.input[index]) }
        guard index < node.input.count, let c = constants[node.input[index]] else {
            throw fail(node, "\(what) (input \(index)) must be a constant (initializer or Constant node)")
        }
        return c
    }

    /// Integer values of the optional constant input `index`, nil when absent.
    func integers(_ node: Onnx_NodeProto, _ index: Int, what: String) throws -> [Int]? {
        guard index < node.input.count, !node.input[index].isEmpty else { return nil }
        let c = try constantInput(node, index, what: what)
        guard let ints = c.integers else { throw fail(node, "\(what) must be an integer tensor") }
        return ints.map { Int(clamping: $0) }
    }

    /// A float scalar constant input, nil when absent.
    func scalar(_ node: Onnx_NodeProto, _ index: Int, what: String) throws -> Float? {
        guard index < node.input.count, !node.input[index].isEmpty else { return nil }
        let c = try constantInput(node, index, what: what)
        guard c.tensor.count == 1 else { throw fail(node, "\(what) must be a scalar") }
        return c.tensor.storage[0]
    }

    /// The IR shape of a computed value read by `node`.
    func shape(_ name: String, _ node: Onnx_NodeProto) throws -> [Int] {
        guard let s = graph.shapes[name] else {
            if let fill = filled[name] {
                throw fail(node, "reads '\(name)', a tensor filled with \(fill.value) whose shape depends on the batch size; ModelPress reads such tensors only as a recurrent layer's zero initial state")
            }
            if timeMajor[name] != nil || directional[name] != nil {
                throw fail(
                    node,
                    "reads '\(name)', a time-major view of a batch-first sequence (its batch axis moved); ModelPress reads such values only as the input of LSTM / GRU / RNN or through Squeeze, Slice, Transpose and Reshape back to batch-first"
                )
            }
            throw fail(node, "reads '\(name)', which no earlier node or graph input defines")
        }
        return s
    }
}
