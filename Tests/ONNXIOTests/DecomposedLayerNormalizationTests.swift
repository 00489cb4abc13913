import Engine
import Foundation
import ONNXIO
import ONNXProto
import TensorCore
import XCTest
import _TestSupport

/// LayerNormalization written as standard ops (opsets 13–16, and PyTorch's and other
/// producers' forms) imports as one LayerNormalization node computing the same as a naive
/// normalization done here.
final class DecomposedLayerNormalizationTests: XCTestCase {
    /// Naive layer normalization of `x` (batch-first) over its last `count` axes.
    static func naive(_ x: Tensor, count: Int, gamma: [Float], beta: [Float]?, epsilon: Float) -> [Float] {
        let group = x.shape.suffix(count).reduce(1, *)
        var out = x.storage
        for start in stride(from: 0, to: out.count, by: group) {
            let row = x.storage[start..<(start + group)].map(Double.init)
            let mean = row.reduce(0, +) / Double(group)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(group)
            for j in 0..<group {
                out[start + j] = Float((row[j] - mean) / (variance + Double(epsilon)).squareRoot()) * gamma[j] + (beta?[j] ?? 0)
            }
        }
        return out
    }

    /// A float initializer.
    static func initializer(_ name: String, _ shape: [Int], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = 1
        t.dims = shape.map(Int64.init)
        t.floatData = values
        return t
    }

    /// A node, with optional `axes` / `keepdims` attributes.
    static func node(_ opType: String, _ inputs: [String], _ output: String, axes: [Int]? = nil) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = opType
        n.name = output
        n.input = inputs
        n.output = [output]
        if let axes {
            var a = Onnx_AttributeProto()
            a.name = "axes"
            a.type = .ints
            a.ints = axes.map(Int64.init)
            n.attribute = [a]
        }
        return n
    }

    /// A model reading `x` (N×dims) and writing `y` through `nodes`.
    static func model(_ nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto], dims: [Int], opset: Int64) throws -> Data {
        var g = Onnx_GraphProto()
        g.name = "ln"
        g.node = nodes
        g.initializer = initializers
        func info(_ name: String) -> Onnx_ValueInfoProto {
            var v = Onnx_ValueInfoProto()
            v.name = name
            var t = Onnx_TypeProto.Tensor()
            t.elemType = 1
            var s = Onnx_TensorShapeProto()
            var batch = Onnx_TensorShapeProto.Dimension()
            batch.dimParam = "N"
            s.dim =
                [batch]
                + dims.map { d in
                    var dim = Onnx_TensorShapeProto.Dimension(); dim.dimValue = Int64(d); return dim
                }
            t.shape = s
            v.type.tensorType = t
            return v
        }
        g.input = [info("x")]
        g.output = [info("y")]
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var o = Onnx_OperatorSetIdProto()
        o.version = opset
        m.opsetImport = [o]
        m.graph = g
        return try m.serializedData()
    }

    func testPyTorchFormOpset18NegativeAxesPowDiv() throws {
        var generator = SeededGenerator(seed: 5)
        let gamma = (0..<12).map { _ in Float.random(in: 0.5...1.5, using: &generator) }
        let beta = (0..<12).map { _ in Float.random(in: -1...1, using: &generator) }
        var axes = Onnx_TensorProto()
        axes.name = "axes"
        axes.dataType = 7
        axes.dims = [2]
        axes.int64Data = [-2, -1]
        let nodes = [
            Self.node("ReduceMean", ["x", "axes"], "mean"), Self.node("Sub", ["x", "mean"], "d"),
            Self.node("Pow", ["d", "two"], "d2"), Self.node("ReduceMean", ["d2", "axes"], "var"),
            Self.node("Add", ["var", "eps"], "shifted"), Self.node("Sqrt", ["shifted"], "std"),
            Self.node("Div", ["d", "std"], "normalized"), Self.node("Mul", ["normalized", "gamma"], "scaled"),
            Self.node("Add", ["scaled", "beta"], "y"),
        ]
        let data = try Self.model(
            nodes,
            initializers: [
                axes, Self.initializer("two", [], [2]), Self.initializer("eps", [], [1e-5]),
                Self.initializer("gamma", [3, 4], gamma), Self.initializer("beta", [3, 4], beta),
            ],
            dims: [2, 3, 4], opset: 18)
        let imported = try ONNXImporter.importModel(from: data, file: "torch_ln.onnx")
        XCTAssertEqual(imported.nodes.map(\.op), [.layerNormalization(LayerNormalization(axis: 2, epsilon: 1e-5))])
        let x = try sampleInput([1, 2, 3, 4], batch: 2).reshaped([2, 2, 3, 4])
        let y = try Executor(graph: imported).run(x)
        XCTAssertLessThan(maxAbsDifference(y.storage, Self.naive(x, count: 2, gamma: gamma, beta: beta, epsilon: 1e-5)), 1e-5)
    }

    func testReciprocalFormWithLeadingOnesAndNoOffset() throws {
        let gamma: [Float] = [1, -2, 0.5, 3]
        let nodes = [
            Self.node("ReduceMean", ["x"], "mean", axes: [2]), Self.node("Sub", ["x", "mean"], "d"),
            Self.node("Mul", ["d", "d"], "d2"), Self.node("ReduceMean", ["d2"], "var", axes: [2]),
            Self.node("Add", ["eps", "var"], "shifted"), Self.node("Sqrt", ["shifted"], "std"),
            Self.node("Reciprocal", ["std"], "inv"), Self.node("Mul", ["inv", "d"], "normalized"),
            Self.node("Mul", ["gamma", "normalized"], "y"),
        ]
        let data = try Self.model(
            nodes, initializers: [Self.initializer("eps", [], [1e-3]), Self.initializer("gamma", [1, 1, 4], gamma)],
            dims: [5, 4], opset: 13)
        let imported = try ONNXImporter.importModel(from: data, file: "recip_ln.onnx")
        XCTAssertEqual(imported.nodes.map(\.op), [.layerNormalization(LayerNormalization(axis: 2, epsilon: 1e-3))])
        XCTAssertEqual(imported.initializers[imported.nodes[0].inputs[1]]?.shape, [4])
        let x = try sampleInput([1, 5, 4], batch: 3).reshaped([3, 5, 4])
        XCTAssertLessThan(maxAbsDifference(try Executor(graph: imported).run(x).storage, Self.naive(x, count: 1, gamma: gamma, beta: nil, epsilon: 1e-3)), 1e-5)
    }

    func testOwnOpset13ExportReimportsAsOneNode() throws {
        var generator = SeededGenerator(seed: 3)
        var g = Graph(name: "ln13")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 3, 4]))
        try g.addInitializer("gamma", randomTensor([3, 4], &generator))
        try g.addInitializer("beta", randomTensor([3, 4], &generator))
        try g.append(Node(name: "ln", op: .layerNormalization(LayerNormalization(axis: 1, epsilon: 1e-4)), inputs: ["x", "gamma", "beta"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 3, 4])]
        for opset in [13, 16] {
            var options = ONNXExportOptions()
            options.opset = opset
            let imported = try ONNXImporter.importModel(from: try ONNXExporter.export(g, options: options).data, file: "ln13.onnx")
            XCTAssertEqual(imported.nodes.map(\.op), g.nodes.map(\.op), "opset \(opset)")
            let x = try sampleInput([1, 3, 4], batch: 2).reshaped([2, 3, 4])
            assertClose(try Executor(graph: imported).run(x), try Executor(graph: g).run(x), tolerance: 1e-6)
        }
    }

    func testCentredValueReadElsewhereIsNotFused() throws {
        let nodes = [
            Self.node("ReduceMean", ["x"], "mean", axes: [1]), Self.node("Sub", ["x", "mean"], "d"),
            Self.node("Mul", ["d", "d"], "d2"), Self.node("ReduceMean", ["d2"], "var", axes: [1]),
            Self.node("Add", ["var", "eps"], "shifted"), Self.node("Sqrt", ["shifted"], "std"),
            Self.node("Div", ["d", "std"], "normalized"), Self.node("Mul", ["normalized", "gamma"], "scaled"),
            Self.node("Add", ["scaled", "d"], "y"),
        ]
        let data = try Self.model(
            nodes, initializers: [Self.initializer("eps", [], [1e-3]), Self.initializer("gamma", [4], [1, 1, 1, 1])],
            dims: [4], opset: 13)
        // Not a LayerNormalization (the centred value is read again): imported op by op, and
        // computing y = (x − μ) / √(σ² + ε) · γ + (x − μ) on each row.
        let graph = try ONNXImporter.importModel(from: data, file: "shared.onnx")
        XCTAssertFalse(graph.nodes.contains { if case .layerNormalization = $0.op { return true } else { return false } })
        XCTAssertEqual(graph.nodes.filter { if case .reduceMean = $0.op { return true } else { return false } }.count, 2)
        let x = try Tensor(shape: [2, 4], storage: [1, 2, 3, 6, -1, 0, 1, 4])
        var expected: [Float] = []
        for row in 0..<2 {
            let v = x.storage[(row * 4)..<(row * 4 + 4)].map(Double.init)
            let mean = v.reduce(0, +) / 4
            let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4 + 1e-3).squareRoot()
            expected += v.map { Float(($0 - mean) / std + ($0 - mean)) }
        }
        assertClose(try Executor(graph: graph).run(x), try Tensor(shape: [2, 4], storage: expected), tolerance: 1e-5)
    }
}
