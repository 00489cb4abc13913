import ONNXProto
import TensorCore

extension UpsampleNearest: ONNXLowering {
    /// `Resize` (nearest, asymmetric, floor) with float `scales`.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        let scalesName = b.constant(node.name + "/scales", try Tensor(shape: [scales.count], storage: scales.map(Float.init)))
        b.single(
            node, "Resize",
            [
                .string("coordinate_transformation_mode", "asymmetric"), .string("mode", "nearest"),
                .string("nearest_mode", "floor"),
            ], inputs: [node.inputs[0], "", scalesName])
    }
    var lowersOnIntegers: Bool { false }
}

// Import: Resize / Upsample in nearest mode with integer scales (linear mode: ResizeBilinear+ONNX.swift)
extension ONNXImportContext {
    /// Resize / Upsample: nearest mode by integer factors, with a coordinate rule that
    /// reproduces `out[i] = x[i / s]`; linear mode on the spatial axes of an N×C×H×W tensor.
    mutating func importResize(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let mode = node.string("mode", default: "nearest")
        guard mode == "nearest" || mode == "linear" else { throw fail(node, "uses mode '\(mode)'; ModelPress reads nearest and linear resizing") }
        var factors: [Float]
        var sizes: [Int]?
        if node.opType == "Upsample" {
            factors = opset >= 9 ? (try constantInput(node, 1, what: "scales")).tensor.storage : (node.attribute("scales")?.floats ?? [])
        } else if let given = try integers(node, 3, what: "sizes") {
            guard given.count == x.count else { throw fail(node, "sizes \(given) do not match \(x)") }
            sizes = given
            factors = (0..<x.count).map { $0 == 0 ? 1 : Float(given[$0]) / Float(x[$0]) }
        } else {
            factors = (try constantInput(node, opset >= 11 ? 2 : 1, what: "scales")).tensor.storage
        }
        if mode == "linear" { return try importResizeLinear(node, i, input: x, factors: factors, sizes: sizes) }
        guard factors.allSatisfy({ $0.isFinite && $0 >= 1 && $0 <= 1024 }) else {
            throw fail(node, "scales \(factors) are not factors from 1 to 1024")
        }
        let scales = factors.map { Int($0.rounded()) }
        guard scales.count == x.count, zip(factors, scales).allSatisfy({ Float($1) == $0 && $1 >= 1 }), scales[0] == 1 else {
            throw fail(node, "scales \(factors) are not integer factors ≥ 1 off the batch axis")
        }
        if node.opType == "Resize" {
            let mode = node.string("coordinate_transformation_mode", default: "half_pixel")
            let rounding = node.string("nearest_mode", default: "round_prefer_floor")
            let exact =
                (mode == "asymmetric" && rounding == "floor")
                || (["half_pixel", "pytorch_half_pixel"].contains(mode) && rounding.hasPrefix("round_prefer"))
            guard exact else { throw fail(node, "coordinate_transformation_mode '\(mode)' with nearest_mode '\(rounding)' does not repeat pixels") }
        }
        try emit(node, i, .upsampleNearest(scales), [node.input[0]])
    }
}
