import Engine
import Foundation
import Quantization
import TensorCore
import Testing

/// Cross-layer equalization keeps the float function, equalizes each pair's channel ranges to
/// `sqrt(r1·r2)`, and forms pairs only across ops that commute with a positive factor per channel.
@Suite("cross-layer equalization")
struct CrossLayerEqualizationTests {
    /// x [N,2,4,4] → conv 1×1 2→3 (bias) → ReLU → max pool 2×2 → depthwise 3×3 (group 3, bias)
    /// → `middle` → conv 1×1 3→2.
    static func graph(middle: Op) throws -> Graph {
        var g = Graph(name: "cle")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2, 4, 4]))
        try g.addInitializer("w1", try Tensor(shape: [3, 2, 1, 1], storage: [4, -2, 0.1, 0.05, 1, 1]))
        try g.addInitializer("b1", try Tensor(shape: [3], storage: [0.5, -0.1, 0.2]))
        let dw: [Float] = (0..<27).map { i in Float(cos(Double(i))) * (i < 9 ? 0.01 : 3) }
        try g.addInitializer("dw", try Tensor(shape: [3, 1, 3, 3], storage: dw))
        try g.addInitializer("dwb", try Tensor(shape: [3], storage: [0.01, 0.3, -0.2]))
        try g.addInitializer("w3", try Tensor(shape: [2, 3, 1, 1], storage: [0.7, -0.3, 0.02, 0.4, 0.9, -0.05]))
        let pad = Padding2D(top: 1, left: 1, bottom: 1, right: 1)
        try g.append(Node(name: "c1", op: .conv2D(Conv2DAttributes(kernel: Size2D(1, 1))), inputs: ["x", "w1", "b1"], output: "a"))
        try g.append(Node(name: "r1", op: .activation(.relu), inputs: ["a"], output: "b"))
        try g.append(Node(name: "pool", op: .maxPool2D(Pool2DAttributes(kernel: Size2D(2, 2), strides: Size2D(2, 2))), inputs: ["b"], output: "c"))
        try g.append(Node(name: "dw", op: .conv2D(Conv2DAttributes(kernel: Size2D(3, 3), pads: pad, group: 3)), inputs: ["c", "dw", "dwb"], output: "d"))
        try g.append(Node(name: "mid", op: middle, inputs: ["d"], output: "e"))
        try g.append(Node(name: "c3", op: .conv2D(Conv2DAttributes(kernel: Size2D(1, 1))), inputs: ["e", "w3"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 2, 2, 2])]
        return g
    }

    @Test("the function is kept and each pair's channel ranges meet at sqrt(r1·r2)")
    func equalizes() throws {
        let g = try Self.graph(middle: .activation(.relu))
        let (out, pairs) = CrossLayerEqualization.apply(g, sweeps: 1)
        #expect(pairs.map { [$0.first, $0.second] } == [["c1", "dw"], ["dw", "c3"]])
        let x = try Tensor(shape: [3, 2, 4, 4], storage: (0..<96).map { Float(sin(Double($0) * 0.41)) })
        let before = try Executor(graph: g).run(x), after = try Executor(graph: out).run(x)
        for (a, b) in zip(before.storage, after.storage) { #expect(abs(a - b) < 1e-4 * max(1, abs(a))) }
        // The last pair equalized (dw → c3) ends with equal ranges per channel: dw's output
        // channel c (axis 0) and c3's input channel c (axis 1).
        let dw = try #require(out.initializers["dw"]).storage, w3 = try #require(out.initializers["w3"]).storage
        for c in 0..<3 {
            let r1 = (0..<9).map { abs(dw[c * 9 + $0]) }.max()!
            let r2 = max(abs(w3[c]), abs(w3[3 + c]))
            #expect(abs(r1 - r2) < 1e-5 * max(r1, r2), "channel \(c): \(r1) vs \(r2)")
        }
    }

    @Test("no pair across a clip at 6 or a value with two readers")
    func refusesWhatDoesNotCommute() throws {
        let relu6 = try Self.graph(middle: .activation(.clip(min: 0, max: 6)))
        #expect(CrossLayerEqualization.apply(relu6).pairs.map(\.second) == ["dw"])
        var branched = try Self.graph(middle: .activation(.relu))
        try branched.append(Node(name: "side", op: .activation(.relu), inputs: ["a"], output: "z"))
        branched.outputs.append(ValueInfo(name: "z", shape: [dynamicBatch, 3, 4, 4]))
        #expect(CrossLayerEqualization.apply(branched).pairs.map(\.first) == ["dw"])
    }
}
