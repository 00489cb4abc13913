import ONNXProto
import TensorCore

extension Conv2DAttributes: ONNXLowering {
    /// `Conv` (any group).
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "Conv", onnxAttributes) }
    var lowersOnIntegers: Bool { false }

    /// ONNX `Conv` / `QLinearConv` / `ConvInteger` attributes.
    var onnxAttributes: [Onnx_AttributeProto] {
        [
            .ints("dilations", dilations.array), .int("group", group), .ints("kernel_shape", kernel.array),
            .ints("pads", pads.array), .ints("strides", strides.array),
        ]
    }
}

// Import: Conv
extension ONNXImportContext {
    /// 2-D Conv with constant weights (and bias); `auto_pad` resolved to explicit pads.
    mutating func importConv(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        let w = try constantInput(node, 1, what: "weights")
        guard x.count == 4, w.shape.count == 4 else { throw fail(node, "is not a 2-D convolution (input \(x), weights \(w.shape))") }
        let (kernel, strides, dilations) = try convolutionWindow(node, weights: w.shape)
        let pads = try resolvePads(node, input: Array(x[2...]), kernel: kernel, strides: strides, dilations: dilations)
        let group = node.int("group", default: 1)
        guard group >= 1, group <= x[1] else { throw fail(node, "has group \(group) for \(x[1]) input channels") }
        guard let k = Size2D(kernel), let s = Size2D(strides), let d = Size2D(dilations), let p = Padding2D(pads) else {
            throw fail(node, "has attributes for other than 2 spatial axes")
        }
        let attributes = Conv2DAttributes(kernel: k, strides: s, dilations: d, pads: p, group: group)
        try emit(node, i, .conv2D(attributes), try weightInputs(node))
    }

    /// `kernel_shape` (else the weights' last two axes), `strides` and `dilations` of a 2-D
    /// Conv / ConvTranspose, checked.
    func convolutionWindow(_ node: Onnx_NodeProto, weights: [Int]) throws -> (kernel: [Int], strides: [Int], dilations: [Int]) {
        let kernel = node.ints("kernel_shape") ?? Array(weights[2...])
        let strides = node.ints("strides") ?? [1, 1]
        let dilations = node.ints("dilations") ?? [1, 1]
        guard kernel.count == 2, strides.count == 2, dilations.count == 2 else { throw fail(node, "has attributes for other than 2 spatial axes") }
        try checkWindow(node, kernel + strides + dilations)
        return (kernel, strides, dilations)
    }

    /// Data and weights, and the bias when the node has one (a constant).
    func weightInputs(_ node: Onnx_NodeProto) throws -> [String] {
        var inputs = [node.input[0], node.input[1]]
        if node.input.count > 2, !node.input[2].isEmpty {
            _ = try constantInput(node, 2, what: "bias")
            inputs.append(node.input[2])
        }
        return inputs
    }

    /// Explicit `[top, left, bottom, right]` pads from `pads` or `auto_pad`.
    func resolvePads(_ node: Onnx_NodeProto, input: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws -> [Int] {
        let autoPad = node.string("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET":
            let pads = node.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= Self.maxExtent }) else { throw fail(node, "has invalid pads \(pads)") }
            return pads
        case "VALID":
            return [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            var begin = [0, 0], end = [0, 0]
            for a in 0..<2 {
                guard strides[a] >= 1 else { throw fail(node, "has invalid strides \(strides)") }
                let out = (input[a] + strides[a] - 1) / strides[a]
                let total = max(0, (out - 1) * strides[a] + (kernel[a] - 1) * dilations[a] + 1 - input[a])
                let small = total / 2
                (begin[a], end[a]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
            }
            return begin + end
        default:
            throw fail(node, "has unknown auto_pad '\(autoPad)'")
        }
    }
}
