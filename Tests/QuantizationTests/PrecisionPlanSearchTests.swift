import Quantization
import TensorCore
import Testing

/// The mixed-precision searches on hand-made cases where the answer is known: three layers with
/// scripted accuracy costs and bytes (weights a: 100, b: 10, c: 1 parameters at 1, 2 or 4 bytes each).
@Suite("precision plan search")
struct PrecisionPlanSearchTests {
    static let parameters = ["a": 100, "b": 10, "c": 1]

    static func bytes(_ plan: PrecisionPlan) -> Int {
        plan.layers.reduce(0) { total, entry in
            let size = entry.value == .int8 ? 1 : entry.value == .fp16 ? 2 : 4
            return total + size * (parameters[entry.key] ?? 0)
        }
    }

    /// 0.9 minus each layer's cost at its precision.
    static func scripted(_ costs: [String: [LayerPrecision: Double]]) -> (PrecisionPlan) -> Double {
        { plan in 0.9 - plan.layers.reduce(0) { $0 + (costs[$1.key]?[$1.value] ?? 0) } }
    }

    @Test("budget: the sensitive layer alone goes to fp16")
    func oneLayerToHalf() throws {
        let accuracy = Self.scripted(["a": [.int8: 0.05], "b": [.int8: 0.002], "c": [.int8: 0.001]])
        let r = try PrecisionPlanSearch.underBudget(candidates: ["a", "b", "c"], floatAccuracy: 0.9, maxDrop: 0.01, bytes: Self.bytes, accuracy: accuracy)
        #expect(r.met && r.plan == PrecisionPlan(["a": .fp16, "b": .int8, "c": .int8]))
        #expect(r.bytes == 211 && abs(r.accuracy - 0.897) < 1e-12)
        #expect(r.trials.map(\.step) == ["all int8", "a → fp16 (probe)", "b → fp16 (probe)", "c → fp16 (probe)"])
    }

    @Test("budget: every layer to fp16 in order of sensitivity, then the one that needs it to fp32")
    func promotesToFloat32() throws {
        let accuracy = Self.scripted(["a": [.int8: 0.05, .fp16: 0.04], "b": [.int8: 0.002], "c": [.int8: 0.003]])
        let r = try PrecisionPlanSearch.underBudget(candidates: ["a", "b", "c"], floatAccuracy: 0.9, maxDrop: 0.01, bytes: Self.bytes, accuracy: accuracy)
        #expect(r.met && r.plan == PrecisionPlan(["a": .fp32, "b": .fp16, "c": .fp16]))
        // Sensitivity order a (+0.01), c (+0.003), b (+0.002); the a → fp16 plan is the probe's.
        #expect(r.trials.map(\.step).suffix(3) == ["c → fp16", "b → fp16", "a → fp32"])
    }

    @Test("budget that no plan meets: the most accurate plan, not met")
    func budgetNotMet() throws {
        let accuracy = Self.scripted(["a": [.int8: 0.05, .fp16: 0.04, .fp32: 0.03]])
        let r = try PrecisionPlanSearch.underBudget(candidates: ["a", "b"], floatAccuracy: 0.9, maxDrop: 0.01, bytes: Self.bytes, accuracy: accuracy)
        #expect(!r.met && r.plan.layers["a"] == .fp32 && abs(r.accuracy - 0.87) < 1e-12)
    }

    @Test("size: the most accurate plan within the bytes, fewer bytes on ties")
    func size() throws {
        let accuracy = Self.scripted(["a": [.int8: 0.05], "b": [.int8: 0.02, .fp16: 0.01], "c": [.int8: 0.001]])
        // All int8: 111 bytes; a → fp16: 211; c → fp16 (probe) 112; b → fp16 (probe) 121.
        let tight = try PrecisionPlanSearch.underSize(candidates: ["a", "b", "c"], maxBytes: 150, bytes: Self.bytes, accuracy: accuracy)
        #expect(tight.met && tight.plan == PrecisionPlan(["a": .int8, "b": .fp16, "c": .int8]) && tight.bytes == 121)
        let roomy = try PrecisionPlanSearch.underSize(candidates: ["a", "b", "c"], maxBytes: 10_000, bytes: Self.bytes, accuracy: accuracy)
        // b at fp32 is the only way to lose nothing; the sequence reaches it at a: fp16 → b: fp32.
        #expect(roomy.met && roomy.plan.layers["b"] == .fp32 && abs(roomy.accuracy - 0.9) < 1e-12)
        #expect(roomy.bytes == roomy.trials.filter { abs($0.accuracy - 0.9) < 1e-12 }.map(\.bytes).min())
        let none = try PrecisionPlanSearch.underSize(candidates: ["a", "b", "c"], maxBytes: 50, bytes: Self.bytes, accuracy: accuracy)
        #expect(!none.met && none.bytes == 111)
    }

    @Test("parsing a plan: layers by name, the rest at the default, unknown names refused")
    func parsing() throws {
        let candidates = [(node: "conv_1/conv", layer: "conv_1"), (node: "dense/linear", layer: "dense")]
        let plan = try PrecisionPlan.parse("conv_1=fp16", candidates: candidates, rest: .int8)
        #expect(plan == PrecisionPlan(["conv_1/conv": .fp16, "dense/linear": .int8]))
        #expect(throws: ModelPressError.self) { try PrecisionPlan.parse("conv_9=fp16", candidates: candidates, rest: .int8) }
        #expect(throws: ModelPressError.self) { try PrecisionPlan.parse("conv_1=int4", candidates: candidates, rest: .int8) }
    }
}
