import Engine
import Foundation
import ModelIO
import Quantization
import TensorCore
import Testing
import _TestSupport

/// SmoothQuant leaves the float function unchanged (the factors fold into the LayerNorm and the
/// Dense before), divides the outlier channel by the factor the formula gives, and refuses
/// inputs it cannot fold, naming why.
@Suite("SmoothQuant")
struct SmoothQuantTests {
    /// x [N,4] → LayerNorm (γ with an outlier channel 2) → Dense 4→3 → GELU → Dense 3→2.
    static func graph() throws -> Graph {
        var g = Graph(name: "sq")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 4]))
        try g.addInitializer("gamma", try Tensor(shape: [4], storage: [1, 0.5, 50, 2]))
        try g.addInitializer("beta", try Tensor(shape: [4], storage: [0.1, 0, 5, -0.2]))
        try g.addInitializer("w1", try Tensor(shape: [4, 3], storage: (0..<12).map { Float(sin(Double($0))) * 0.5 }))
        try g.addInitializer("w2", try Tensor(shape: [3, 2], storage: [0.3, -0.2, 0.5, 0.1, -0.4, 0.25]))
        try g.append(Node(name: "ln", op: .layerNormalization(LayerNormalization(axis: 1, epsilon: 1e-3)), inputs: ["x", "gamma", "beta"], output: "h"))
        try g.append(Node(name: "fc1", op: .linear, inputs: ["h", "w1"], output: "a"))
        try g.append(Node(name: "gelu", op: .activation(.gelu(approximate: false)), inputs: ["a"], output: "b"))
        try g.append(Node(name: "fc2", op: .linear, inputs: ["b", "w2"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 2])]
        return g
    }

    @Test("smoothing keeps the float outputs and divides the outlier channel")
    func keepsTheFunction() throws {
        let g = try Self.graph()
        let n = 16
        let x = (0..<(n * 4)).map { Float(sin(Double($0) * 0.77)) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("smoothquant-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writeDataset(path: path, x: x, shape: [n, 4], y: [Int64](repeating: 0, count: n))
        let data = try DatasetFile(path: path, xKey: "x", yKey: nil)
        let plan = QuantizationPlan(graph: g, options: StaticQuantizationOptions())
        let (smoothed, result) = try SmoothQuant.apply(g, plan: plan, alpha: 0.5, data: data, samples: nil, batchSize: 5)
        #expect(result.maxScale.keys.sorted() == ["fc1"])
        #expect(result.skipped["fc2"]?.contains("gelu") == true)
        let input = try Tensor(shape: [n, 4], storage: x)
        let before = try Executor(graph: g).run(input), after = try Executor(graph: smoothed).run(input)
        for (a, b) in zip(before.storage, after.storage) { #expect(abs(a - b) < 1e-4 * max(1, abs(a))) }
        // Hand formula for channel 2: s = sqrt(max|h_2|) / sqrt(max_k |w1[2,k]|), h from the float graph.
        var hMax = [Float](repeating: 0, count: 4)
        _ = try Executor(graph: g).run(input) { name, v in
            if name == "h" { for (i, value) in v.storage.enumerated() { hMax[i % 4] = max(hMax[i % 4], abs(value)) } }
        }
        let w1 = try #require(g.initializers["w1"]).storage
        let s2 = hMax[2].squareRoot() / (0..<3).map { abs(w1[6 + $0]) }.max()!.squareRoot()
        let gamma = try #require(smoothed.initializers["gamma"]).storage
        #expect(abs(gamma[2] - 50 / s2) < 1e-4 * abs(50 / s2), "\(gamma[2]) vs \(50 / s2)")
        #expect(s2 > 5, "the outlier channel gets a large factor")
    }
}
