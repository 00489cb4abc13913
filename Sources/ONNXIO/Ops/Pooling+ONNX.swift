import ONNXProto
import TensorCore

extension MaxPool2D: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        b.single(node, "MaxPool", [.ints("kernel_shape", kernel.array), .ints("pads", pads.array), .ints("strides", strides.array)])
    }
    /// MaxPool takes uint8/int8 since opset 12.
    var lowersOnIntegers: Bool { true }
}

extension AveragePool2D: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws {
        b.single(node, "AveragePool", [.ints("kernel_shape", kernel.array), .ints("pads", pads.array), .ints("strides", strides.array)])
    }
    var lowersOnIntegers: Bool { false }
}

extension GlobalAveragePool: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "GlobalAveragePool") }
    var lowersOnIntegers: Bool { false }
}

extension GlobalMaxPool: ONNXLowering {
    func lower(_ node: Node, _ b: inout ONNXGraphBuilder) throws { b.single(node, "GlobalMaxPool") }
    /// GlobalMaxPool is float-only in ONNX.
    var lowersOnIntegers: Bool { false }
}

// Import: MaxPool, AveragePool (GlobalAveragePool / GlobalMaxPool map one to one in the name table)
extension ONNXImportContext {
    /// MaxPool / AveragePool in 2-D; AveragePool with `count_include_pad=1` and padding becomes Pad + AveragePool.
    mutating func importPool(_ node: Onnx_NodeProto, _ i: Int) throws {
        let x = try shape(node.input[0], node)
        guard x.count == 4, let kernel = node.ints("kernel_shape"), kernel.count == 2 else { throw fail(node, "is not a 2-D pooling") }
        if node.output.count > 1, readers[node.output[1]] != nil || outputNames.contains(node.output[1]) {
            throw fail(node, "its Indices output is used, which ModelPress does not compute")
        }
        let strides = node.ints("strides") ?? [1, 1]
        guard strides.count == 2 else { throw fail(node, "has strides for other than 2 spatial axes") }
        try checkWindow(node, kernel + strides)
        guard (node.ints("dilations") ?? [1, 1]) == [1, 1] else { throw fail(node, "has dilations; only undilated pooling is supported") }
        var pads = try resolvePads(node, input: Array(x[2...]), kernel: kernel, strides: strides, dilations: [1, 1])
        if node.int("ceil_mode", default: 0) != 0 {
            for a in 0..<2 {
                let padded = x[2 + a] + pads[a] + pads[a + 2] - kernel[a]
                guard strides[a] >= 1, padded >= 0, padded % strides[a] == 0 else {
                    throw fail(node, "uses ceil_mode=1 where it changes the output size; re-export with ceil_mode=0")
                }
            }
        }
        var input = node.input[0]
        if node.opType == "AveragePool", node.int("count_include_pad", default: 0) != 0, pads.contains(where: { $0 != 0 }) {
            let padded = uniqueConstantName(nodeName(node, i) + "/pad")
            try graph.append(Node(name: padded, op: .pad([0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]]), inputs: [input], output: padded))
            input = padded
            pads = [0, 0, 0, 0]
        }
        guard let k = Size2D(kernel), let s = Size2D(strides), let p = Padding2D(pads) else {
            throw fail(node, "has attributes for other than 2 spatial axes")
        }
        let attributes = Pool2DAttributes(kernel: k, strides: s, pads: p)
        try emit(node, i, node.opType == "MaxPool" ? .maxPool2D(attributes) : .averagePool2D(attributes), [input])
    }

    /// Fails unless every window attribute is in `1...maxExtent`.
    func checkWindow(_ node: Onnx_NodeProto, _ values: [Int]) throws {
        guard values.allSatisfy({ $0 >= 1 && $0 <= Self.maxExtent }) else {
            throw fail(node, "has kernel/stride/dilation values \(values) outside 1…\(Self.maxExtent)")
        }
    }
}
