import ONNXProto
import TensorCore

extension ResizeBilinear: ONNXLowering {
    /// `Resize` (linear) with float `scales`: the file's, else [1, 1, OH/H, OW/W] with a ratio
    /// that is not exact in float nudged up one ulp so that ⌊H · scale⌋ is OH.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        guard let x = b.shape(of: node.inputs[0]), x.count == 4 else {
            throw ModelPressError.internalError("Resize '\(node.name)' has no 4-D input shape")
        }
        let ratios =
            scales
            ?? [(size.height, x[2]), (size.width, x[3])].map { out, input -> Float in
                let scale = Float(out) / Float(input)
                return Float(input) * scale >= Float(out) ? scale : scale.nextUp
            }
        let scalesName = b.constant(node.name + "/scales", try Tensor(shape: [4], storage: [1, 1] + ratios))
        b.single(
            node, "Resize", [.string("coordinate_transformation_mode", coordinates.rawValue), .string("mode", "linear")],
            inputs: [node.inputs[0], "", scalesName])
    }
    var lowersOnIntegers: Bool { false }
}

// Import: Resize / Upsample in linear mode
extension ONNXImportContext {
    /// A linear Resize of the two spatial axes of an N×C×H×W input; the output size is `sizes`,
    /// else ⌊input · scale⌋ as the operator defines it.
    mutating func importResizeLinear(_ node: Onnx_NodeProto, _ i: Int, input x: [Int], factors: [Float], sizes: [Int]?) throws {
        guard x.count == 4, factors.count == 4, factors[0] == 1, factors[1] == 1, factors.allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 1024 }) else {
            throw fail(node, "resizes \(x) by \(factors); ModelPress reads linear resizing of the last two axes of an N×C×H×W tensor")
        }
        let mode = node.opType == "Upsample" ? "asymmetric" : node.string("coordinate_transformation_mode", default: "half_pixel")
        guard let coordinates = ResizeBilinear.Coordinates(rawValue: mode) else {
            let known = ResizeBilinear.Coordinates.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail(node, "uses coordinate_transformation_mode '\(mode)'; ModelPress reads \(known)")
        }
        if node.int("antialias", default: 0) != 0, factors.contains(where: { $0 < 1 }) {
            throw fail(node, "downsizes with antialias, which ModelPress does not compute")
        }
        let out = (2..<4).map { sizes?[$0] ?? Int((Float(x[$0]) * factors[$0]).rounded(.down)) }
        guard out.allSatisfy({ $0 >= 1 }) else { throw fail(node, "resizes \(x) to an empty image") }
        let op = ResizeBilinear(size: Size2D(out[0], out[1]), coordinates: coordinates, scales: sizes == nil ? Array(factors[2...]) : nil)
        try emit(node, i, .resizeBilinear(op), [node.input[0]])
    }
}
