import ONNXProto
import TensorCore

/// The shape computations PyTorch writes for a dynamic batch (`x.view(x.size(0), -1)` →
/// `Shape → Gather → Unsqueeze → Concat → Reshape`): evaluated at import time, with the batch
/// size as the one unknown entry, so that the Reshape gets a static target. No IR nodes.
extension ONNXImportContext {
    /// An integer vector (or scalar) known at import time except for batch-size entries (nil).
    struct ShapeValue {
        var values: [Int?]
        var isScalar: Bool
    }

    /// The shape value of `name`: a tracked one, or an integer constant.
    func shapeValue(_ name: String) -> ShapeValue? {
        if let v = shapeValues[name] { return v }
        guard let c = constants[name], let ints = c.integers, c.shape.count <= 1 else { return nil }
        return ShapeValue(values: ints.map { Int(clamping: $0) }, isScalar: c.shape.isEmpty)
    }

    /// Evaluates `node` when it is shape arithmetic (Shape of a value, or Gather / Unsqueeze /
    /// Squeeze / Concat / Cast of shape values); false when it is an ordinary operator.
    mutating func importShapeArithmetic(_ node: Onnx_NodeProto) throws -> Bool {
        guard let out = node.output.first, let first = node.input.first else { return false }
        let result: ShapeValue
        switch node.opType {
        case "Shape":
            guard let s = graph.shapes[first] else { return false }
            guard node.attribute("start") == nil && node.attribute("end") == nil else { throw fail(node, "uses start/end, which ModelPress does not read") }
            result = ShapeValue(values: s.map { $0 == dynamicBatch ? nil : $0 }, isScalar: false)
        case "Cast", "Identity":
            guard shapeValues[first] != nil, let v = shapeValue(first) else { return false }
            result = v
        case "Gather":
            guard shapeValues[first] != nil, let data = shapeValue(first), node.input.count == 2,
                let indices = shapeValue(node.input[1])
            else { return false }
            let picked = try indices.values.map { index -> Int? in
                guard let i = index, (-data.values.count..<data.values.count).contains(i) else { throw fail(node, "gathers an index outside the shape") }
                return data.values[i < 0 ? i + data.values.count : i]
            }
            result = ShapeValue(values: picked, isScalar: indices.isScalar)
        case "Unsqueeze":
            guard shapeValues[first] != nil, let v = shapeValue(first), v.isScalar else { return false }
            result = ShapeValue(values: v.values, isScalar: false)
        case "Squeeze":
            guard shapeValues[first] != nil, let v = shapeValue(first), v.values.count == 1 else { return false }
            result = ShapeValue(values: v.values, isScalar: true)
        case "Concat":
            guard node.input.contains(where: { shapeValues[$0] != nil }) else { return false }
            var values: [Int?] = []
            for input in node.input {
                guard let v = shapeValue(input), !v.isScalar else { throw fail(node, "concatenates a shape with a value ModelPress cannot evaluate") }
                values += v.values
            }
            result = ShapeValue(values: values, isScalar: false)
        default:
            return false
        }
        shapeValues[out] = result
        return true
    }
}
