import Engine
import Foundation
import ONNXIO
import TensorCore
import XCTest

/// Each activation's lowering at each opset form round-trips and computes the same values.
final class ActivationLoweringTests: XCTestCase {
    static let activations: [Activation] = [
        .relu, .sigmoid, .tanh, .softplus, .softsign, .selu, .swish, .hardSwish, .exponential, .negate,
        .clip(min: 0, max: 6), .clip(min: -.infinity, max: 1.5), .clip(min: -2, max: .infinity),
        .leakyRelu(alpha: 0.15), .elu(alpha: 0.7), .hardSigmoid(alpha: 0.2, beta: 0.5),
        .gelu(approximate: false), .gelu(approximate: true),
        .thresholdedLinear(threshold: 0.5, negativeSlope: 0.1, maxValue: 4),
        .thresholdedLinear(threshold: -1, negativeSlope: 0, maxValue: nil),
    ]

    func testEveryActivationAtOpsets13To21() throws {
        for f in Self.activations {
            var m = try GraphMaker("act", input: [4, 5])
            try m.add("act", .activation(f), ["input"])
            m.outputs("act")
            let x = try sampleInput([4, 5], range: -8...8)
            for opset in [13, 14, 19, 20, 21] {
                var options = ONNXExportOptions()
                options.opset = opset
                let first = try ONNXExporter.export(m.graph, options: options)
                let imported = try ONNXImporter.importModel(from: first.data, file: "act.onnx")
                XCTAssertEqual(imported.nodes.map(\.op), [.activation(f)], "\(f) at opset \(opset)")
                XCTAssertEqual(try ONNXExporter.export(imported, options: options).data, first.data, "\(f) at opset \(opset)")
                assertClose(try execute(imported, x), try execute(m.graph, x), "\(f) at opset \(opset)")
            }
        }
    }

    func testSquareRootAndReciprocalAreTheStandardOps() throws {
        for (f, opType) in [(Activation.squareRoot, "Sqrt"), (.reciprocal, "Reciprocal")] {
            var m = try GraphMaker("act", input: [3])
            try m.add("act", .activation(f), ["input"])
            m.outputs("act")
            let exported = try ONNXExporter.export(m.graph)
            let imported = try ONNXImporter.importModel(from: exported.data, file: "act.onnx")
            XCTAssertEqual(imported.nodes.map(\.op), [.activation(f)], opType)
            // √4 = 2, √0.25 = 0.5, √9 = 3; 1/4, 1/0.25, 1/9.
            let y = try execute(imported, try Tensor(shape: [1, 3], storage: [4, 0.25, 9]))
            assertClose(y, try Tensor(shape: [1, 3], storage: f == .squareRoot ? [2, 0.5, 3] : [0.25, 4, 1.0 / 9]))
        }
    }

    func testHandComputedValues() throws {
        // thresholdedLinear(0.5, 0.1, max 4): x=-1 → 0.1·(−1.5) = −0.15; x=0.5 → 0 (not above); x=0.6 → 0.6; x=5 → 4.
        var m = try GraphMaker("relu_full", input: [4])
        try m.add("relu_full", .activation(.thresholdedLinear(threshold: 0.5, negativeSlope: 0.1, maxValue: 4)), ["input"])
        m.outputs("relu_full")
        let imported = try ONNXImporter.importModel(from: try ONNXExporter.export(m.graph).data, file: "t.onnx")
        let y = try execute(imported, try Tensor(shape: [1, 4], storage: [-1, 0.5, 0.6, 5]))
        assertClose(y, try Tensor(shape: [1, 4], storage: [-0.15, 0, 0.6, 4]))
        // gelu(1) = 0.8413447; hard swish(1) = 1·4/6.
        var g = try GraphMaker("gelu", input: [1])
        try g.add("gelu", .activation(.gelu(approximate: false)), ["input"])
        try g.add("hs", .activation(.hardSwish), ["gelu"])
        g.outputs("gelu")
        let gi = try ONNXImporter.importModel(from: try ONNXExporter.export(g.graph).data, file: "g.onnx")
        assertClose(try execute(gi, try Tensor(shape: [1, 1], storage: [1])), try Tensor(shape: [1, 1], storage: [0.8413447]))
    }
}
