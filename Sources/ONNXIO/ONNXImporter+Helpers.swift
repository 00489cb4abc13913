import ONNXProto
import TensorCore

/// Helpers the per-op importers (`Ops/<Op>+ONNX.swift`) share.
extension ONNXImportContext {
    /// The largest kernel, stride, dilation or pad ModelPress accepts (keeps shape arithmetic in range).
    static let maxExtent = 1 << 20

    /// A name used by no value of either graph.
    func uniqueConstantName(_ base: String) -> String {
        var name = base, k = 1
        while graph.shapes[name] != nil || constants[name] != nil || producer[name] != nil { name = "\(base)_\(k)"; k += 1 }
        return name
    }

    /// A new IR initializer holding `t`, named after `base`; returns its name.
    mutating func addInitializer(_ t: Tensor, named base: String) throws -> String {
        let name = uniqueConstantName(base)
        try graph.addInitializer(name, t)
        return name
    }

    /// Appends an IR node of the importer's own beside ONNX node `node` (an intermediate step
    /// of its conversion), named and writing `base` made unique; returns the output's name.
    mutating func appendIntermediate(_ node: Onnx_NodeProto, _ op: Op, _ inputs: [String], named base: String) throws -> String {
        let name = uniqueConstantName(base)
        try graph.append(Node(name: name, op: op, inputs: inputs, output: name, layer: layer(node)))
        return name
    }

    /// The transpose of a 2-D tensor.
    func transpose2D(_ t: Tensor) throws -> Tensor {
        let (r, c) = (t.shape[0], t.shape[1])
        var out = try Tensor(shape: [c, r])
        for a in 0..<r { for b in 0..<c { out.storage[b * r + a] = t.storage[a * c + b] } }
        return out
    }
}
