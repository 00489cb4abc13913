import ONNXProto
import TensorCore

extension ConvTranspose2D: ONNXLowering {
    /// `ConvTranspose` with explicit pads and output padding.
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        b.single(
            node, "ConvTranspose",
            [
                .ints("dilations", dilations.array), .int("group", group), .ints("kernel_shape", kernel.array),
                .ints("output_padding", outputPadding.array), .ints("pads", pads.array), .ints("strides", strides.array),
            ])
    }
    var lowersOnIntegers: Bool { false }
}

// Import: ConvTranspose
extension ONNXImportContext {
    /// 2-D ConvTranspose with constant weights (and bias); `output_shape` and `auto_pad`
    /// resolved to explicit pads and output padding as the operator's definition computes them.
    mutating func importConvTranspose(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let w = try constantInput(node, 1, what: "weights")
        guard x.count == 4, w.shape.count == 4 else { throw fail(node, "is not a 2-D transposed convolution (input \(x), weights \(w.shape))") }
        let (kernel, strides, dilations) = try convolutionWindow(node, weights: w.shape)
        var outputPadding = node.ints("output_padding") ?? [0, 0]
        guard outputPadding.count == 2 else { throw fail(node, "has output_padding for other than 2 spatial axes") }
        var pads = node.ints("pads") ?? [0, 0, 0, 0]
        let autoPad = node.string("auto_pad", default: "NOTSET")
        if let outputShape = node.ints("output_shape") ?? (autoPad.hasPrefix("SAME") ? [x[2] * strides[0], x[3] * strides[1]] : nil) {
            let spatial = Array(outputShape.suffix(2))
            guard spatial.count == 2 else { throw fail(node, "has output_shape \(outputShape) for other than 2 spatial axes") }
            for a in 0..<2 {
                let total = strides[a] * (x[2 + a] - 1) + outputPadding[a] + (kernel[a] - 1) * dilations[a] + 1 - spatial[a]
                if total < 0 {
                    // A larger output than the full one: the extra rows come from output padding.
                    outputPadding[a] -= total
                    (pads[a], pads[a + 2]) = (0, 0)
                } else {
                    let small = total / 2
                    (pads[a], pads[a + 2]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
                }
            }
        } else if autoPad == "VALID" {
            pads = [0, 0, 0, 0]
        }
        guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= Self.maxExtent }) else { throw fail(node, "has invalid pads \(pads)") }
        let group = node.int("group", default: 1)
        guard group >= 1, group <= x[1] else { throw fail(node, "has group \(group) for \(x[1]) input channels") }
        guard let k = Size2D(kernel), let s = Size2D(strides), let d = Size2D(dilations), let p = Padding2D(pads), let extra = Size2D(outputPadding) else {
            throw fail(node, "has attributes for other than 2 spatial axes")
        }
        let op = ConvTranspose2D(kernel: k, strides: s, dilations: d, pads: p, outputPadding: extra, group: group)
        try emit(node, i, .convTranspose2D(op), try weightInputs(node))
    }
}
