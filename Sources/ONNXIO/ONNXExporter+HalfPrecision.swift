import ONNXProto
import TensorCore

/// Float16 typing of a lowered graph (`Graph.halfPrecision`): the ONNX nodes lowered from an
/// IR node that computes in float16 read and write float16, everything else float32, and a
/// value crossing between the two is cast once (one Cast per value and type, shared by its
/// readers). An Identity that crosses is itself the Cast.
extension ONNXGraphBuilder {
    /// ONNX inputs that stay float32 whatever their node computes in (`tensor(float)` in the
    /// operator's signature), by op type.
    static let float32OnlyInputs: [String: Set<Int>] = ["Resize": [2], "Upsample": [1]]

    /// Retypes the lowered nodes: `origins[k]` is the IR node ONNX node `k` was lowered from.
    /// `declared`: the element type of each graph input and output as the file declares it.
    mutating func assignHalfPrecision(origins: [String], declared: [String: Int32]) throws {
        let ir = graph
        let halfNodes = Set(ir.nodes.filter { $0.outputs.contains(where: ir.halfPrecision.contains) }.map(\.name))
        let half = origins.map(halfNodes.contains)
        let lowered = nodes
        var required: [String: Set<Int32>] = [:]
        for (k, node) in lowered.enumerated() where node.opType != "Cast" {
            let exempt = Self.float32OnlyInputs[node.opType] ?? []
            for (p, input) in node.input.enumerated() where !input.isEmpty {
                required[input, default: []].insert(half[k] && !exempt.contains(p) ? ONNXDataType.float16 : ONNXDataType.float)
            }
        }
        var types = declared
        // A float16 weight that only float32 nodes read is stored as `<name>/fp16` and cast
        // back to `<name>` before its first reader (the weights-only form).
        var castBack: [String: String] = [:]
        initializers = initializers.map { proto in
            guard proto.dataType == ONNXDataType.float, let tensor = try? ONNXTensor.floats(proto, { .internalError($0) }) else {
                types[proto.name] = proto.dataType
                return proto
            }
            let readers = required[proto.name] ?? []
            let stored = ir.initializers[proto.name] != nil ? ir.halfPrecision.contains(proto.name) : storesHalf(tensor, readers: readers, ir: ir)
            guard stored else {
                types[proto.name] = ONNXDataType.float
                return proto
            }
            guard readers == [ONNXDataType.float] else {
                types[proto.name] = ONNXDataType.float16
                return ONNXTensor.half(proto.name, tensor)
            }
            let halfName = fresh(proto.name + "/fp16")
            castBack[proto.name] = halfName
            types[proto.name] = ONNXDataType.float
            return ONNXTensor.half(halfName, tensor)
        }
        var casts: [String: String] = [:]
        var retyped: [Onnx_NodeProto] = []
        for (k, original) in lowered.enumerated() {
            var node = original
            for input in node.input {
                guard let halfName = castBack.removeValue(forKey: input) else { continue }
                retyped.append(Self.cast(halfName, to: input, ONNXDataType.float))
            }
            let precision = half[k] ? ONNXDataType.float16 : ONNXDataType.float
            if node.opType == "Cast" || node.opType == "Identity", node.input.count == 1, isFloat(types[node.input[0]]) || node.opType == "Cast" {
                retype(&node, precision: precision, types: &types)
            } else {
                let exempt = Self.float32OnlyInputs[node.opType] ?? []
                for (p, input) in node.input.enumerated() where !input.isEmpty && isFloat(types[input]) {
                    let need = half[k] && !exempt.contains(p) ? ONNXDataType.float16 : ONNXDataType.float
                    guard types[input] != need else { continue }
                    let key = input + (need == ONNXDataType.float16 ? "/fp16" : "/fp32")
                    if casts[key] == nil {
                        let name = fresh(key)
                        retyped.append(Self.cast(input, to: name, need))
                        types[name] = need
                        casts[key] = name
                    }
                    node.input[p] = casts[key] ?? input
                }
                for output in node.output where isFloat(elementTypes[output]) { types[output] = precision }
            }
            retyped.append(node)
        }
        nodes = retyped
        // In node order, as lowering writes them, and none for the Casts between precisions (their
        // type and shape are their input's), so reading the file back and writing it again gives
        // the same bytes.
        let crossings = Set(retyped.filter { $0.opType == "Cast" && isFloat(types[$0.input[0]]) }.flatMap(\.output))
        let infos = Dictionary(valueInfo.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        valueInfo = retyped.flatMap(\.output).filter { !crossings.contains($0) }.compactMap { name in
            guard var info = infos[name] else { return nil }
            if let type = types[name], isFloat(type) { info.type.tensorType.elemType = type }
            return info
        }
        for (name, type) in declared where types[name] != type && isFloat(types[name]) {
            throw ModelPressError.internalError("graph output '\(name)' is computed in \(types[name] == ONNXDataType.float16 ? "float16" : "float32") but declared otherwise")
        }
    }

    /// A Cast node named after its output.
    static func cast(_ input: String, to output: String, _ type: Int32) -> Onnx_NodeProto {
        var cast = Onnx_NodeProto()
        cast.opType = "Cast"
        cast.name = output
        cast.input = [input]
        cast.output = [output]
        cast.attribute = [.int("to", Int(type))]
        return cast
    }

    /// A Cast or Identity of a float value in a node of `precision`: a Cast to float keeps the
    /// node's precision; an Identity whose input differs becomes the Cast between them.
    private func retype(_ node: inout Onnx_NodeProto, precision: Int32, types: inout [String: Int32]) {
        if node.opType == "Cast" {
            let to = Int32(node.attribute.first { $0.name == "to" }?.i ?? 0)
            let target = isFloat(to) ? precision : to
            node.attribute = node.attribute.map { $0.name == "to" ? .int("to", Int(target)) : $0 }
            types[node.output[0]] = target
        } else {
            if types[node.input[0]] != precision {
                node.opType = "Cast"
                node.attribute = [.int("to", Int(precision))]
                node.docString = ""
            }
            types[node.output[0]] = precision
        }
    }

    /// Whether a constant the lowering made is stored in float16: when every reader computes
    /// in float16, or, for the weights-only form (IR weights held half but no node computing
    /// in float16), when it has more than one element and each is exactly a float16 (a weight
    /// the lowering re-laid out).
    private func storesHalf(_ tensor: Tensor, readers: Set<Int32>, ir: Graph) -> Bool {
        if readers == [ONNXDataType.float16] { return true }
        let weightsOnly = !ir.halfPrecision.isEmpty && !ir.nodes.contains { $0.outputs.contains(where: ir.halfPrecision.contains) }
        return weightsOnly && tensor.count > 1 && tensor.storage.allSatisfy { HalfPrecision.round($0) == $0 }
    }

    /// Whether `type` is float32 or float16.
    private func isFloat(_ type: Int32?) -> Bool { type == ONNXDataType.float || type == ONNXDataType.float16 }
}
