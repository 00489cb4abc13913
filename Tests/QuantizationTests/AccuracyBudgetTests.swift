import Quantization
import TensorCore
import Testing

/// `AccuracyBudget.search` on a two-layer graph with a scripted accuracy function: sensitivity
/// order, stopping as soon as the budget holds, and the best-found result when it cannot.
@Suite("accuracy budget")
struct AccuracyBudgetTests {
    /// `y = (x · W1) · W2`, two Linear layers "d1" and "d2".
    static func twoDense() throws -> Graph {
        var g = Graph(name: "two")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2]))
        try g.addInitializer("w1", try Tensor(shape: [2, 2], storage: [0.5, -1, 0.25, 2]))
        try g.addInitializer("w2", try Tensor(shape: [2, 2], storage: [1, 0.5, -0.5, 1]))
        try g.append(Node(name: "d1", op: .linear, inputs: ["x", "w1"], output: "h"))
        try g.append(Node(name: "d2", op: .linear, inputs: ["h", "w2"], output: "y"))
        g.outputs = [ValueInfo(name: "y", shape: [dynamicBatch, 2])]
        return g
    }

    static func statistics() -> [String: ActivationStatistics] {
        var out: [String: ActivationStatistics] = [:]
        for name in ["x", "h", "y"] {
            var s = ActivationStatistics()
            [Float(-2), 2].withUnsafeBufferPointer { _ = s.minMax.observe($0) }
            out[name] = s
        }
        return out
    }

    /// Scripted accuracy: 0.9 float; quantizing d1 costs `cost1`, d2 costs `cost2`.
    static func scripted(cost1: Double, cost2: Double) -> (Graph) -> Double {
        { g in 0.9 - (g.quantization["w1"] != nil ? cost1 : 0) - (g.quantization["w2"] != nil ? cost2 : 0) }
    }

    @Test("within budget: nothing measured, nothing returned")
    func alreadyMet() throws {
        let r = try AccuracyBudget.search(
            try Self.twoDense(), statistics: Self.statistics(), options: StaticQuantizationOptions(),
            maxDrop: 0.05, floatAccuracy: 0.9, accuracy: Self.scripted(cost1: 0.01, cost2: 0.02))
        #expect(r.met && r.sensitivities.isEmpty && r.fallback.isEmpty && r.reports.map(\.node) == ["d1", "d2"])
    }

    @Test("the most sensitive layer (d2) goes back first, and alone suffices")
    func returnsMostSensitive() throws {
        let r = try AccuracyBudget.search(
            try Self.twoDense(), statistics: Self.statistics(), options: StaticQuantizationOptions(),
            maxDrop: 0.02, floatAccuracy: 0.9, accuracy: Self.scripted(cost1: 0.01, cost2: 0.05))
        #expect(r.sensitivities.map(\.node) == ["d2", "d1"])
        #expect(abs(r.sensitivities[0].sensitivity - 0.05) < 1e-12 && abs(r.sensitivities[1].sensitivity - 0.01) < 1e-12)
        #expect(r.fallback.map(\.layer.node) == ["d2"] && r.met)
        #expect(abs(r.finalAccuracy - 0.89) < 1e-12 && r.reports.map(\.node) == ["d1"])
        #expect(r.graph.quantization["w2"] == nil && r.graph.quantization["w1"] != nil)
    }

    @Test("impossible budget: best configuration returned, met == false")
    func impossible() throws {
        // Accuracy 0.5 whatever the configuration (e.g. a non-layer bottleneck): nothing helps.
        let r = try AccuracyBudget.search(
            try Self.twoDense(), statistics: Self.statistics(), options: StaticQuantizationOptions(),
            maxDrop: 0.01, floatAccuracy: 0.9, accuracy: { _ in 0.5 })
        #expect(!r.met && abs(r.drop - 0.4) < 1e-12)
        #expect(r.fallback.isEmpty && r.reports.count == 2)  // no improvement: keep the fully quantized graph
        #expect(r.sensitivities.map(\.node) == ["d1", "d2"])  // ties in graph order
    }

    /// `s = (x · W1) + (x · W2)`, the Add's output the graph output: an activation candidate.
    static func denseAdd() throws -> Graph {
        var g = Graph(name: "add")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2]))
        try g.addInitializer("w1", try Tensor(shape: [2, 2], storage: [0.5, -1, 0.25, 2]))
        try g.addInitializer("w2", try Tensor(shape: [2, 2], storage: [1, 0.5, -0.5, 1]))
        try g.append(Node(name: "d1", op: .linear, inputs: ["x", "w1"], output: "h1"))
        try g.append(Node(name: "d2", op: .linear, inputs: ["x", "w2"], output: "h2"))
        try g.append(Node(name: "sum", op: .elementwise(.add), inputs: ["h1", "h2"], output: "s"))
        g.outputs = [ValueInfo(name: "s", shape: [dynamicBatch, 2])]
        return g
    }

    @Test("an Add output is an activation candidate: measured, returned to float for all readers")
    func activationFallback() throws {
        let g = try Self.denseAdd()
        let plan = QuantizationPlan(graph: g, options: StaticQuantizationOptions())
        // x, h1, h2 are Dense inputs / outputs (layer fallback covers them); s is not.
        #expect(plan.activationCandidates == ["s"])
        var stats = Self.statistics()
        for name in ["h1", "h2", "s"] {
            var a = ActivationStatistics()
            [Float(-2), 2].withUnsafeBufferPointer { _ = a.minMax.observe($0) }
            stats[name] = a
        }
        // Quantizing s costs 0.05, d1 0.01: s goes back first and alone meets a 0.02 budget.
        let accuracy = { (q: Graph) -> Double in 0.9 - (q.quantization["s"] != nil ? 0.05 : 0) - (q.quantization["w1"] != nil ? 0.01 : 0) }
        let r = try AccuracyBudget.search(
            g, statistics: stats, options: StaticQuantizationOptions(), maxDrop: 0.02,
            floatAccuracy: 0.9, accuracy: accuracy)
        #expect(r.sensitivities.map(\.node) == ["s", "d1", "d2"])
        #expect(r.sensitivities.map(\.isActivation) == [true, false, false])
        #expect(r.fallback.map(\.layer.node) == ["s"] && r.met && abs(r.finalAccuracy - 0.89) < 1e-12)
        #expect(r.graph.quantization["s"] == nil && r.graph.quantization["h1"] != nil && r.graph.quantization["w1"] != nil)
        #expect(r.reports.map(\.node) == ["d1", "d2"])
    }
}
