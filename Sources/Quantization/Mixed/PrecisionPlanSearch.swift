import TensorCore

/// One plan the search measured.
public struct PlanTrial: Codable, Equatable, Sendable {
    /// What was tried: `all int8`, `conv_1 → fp16 (probe)`, `conv_1 → fp16`.
    public var step: String
    /// Layers per precision.
    public var precisions: String
    /// Weight bytes of the plan's file.
    public var bytes: Int
    /// Top-1 accuracy on the test data.
    public var accuracy: Double
}

/// The outcome of a plan search.
public struct PlanSearchResult: Sendable {
    /// The chosen plan.
    public var plan: PrecisionPlan
    /// Its bytes and accuracy.
    public var bytes: Int, accuracy: Double
    /// Every plan measured, in order.
    public var trials: [PlanTrial]
    /// Whether the plan meets the budget or size.
    public var met: Bool
}

/// Mixed-precision plan searches over the Conv / Dense layers, on measured bytes and accuracy:
/// - under an accuracy budget, start from every layer int8 and promote the most sensitive
///   layers one at a time, int8 → fp16 for all in order of sensitivity, then fp16 → fp32, until
///   the drop is within the budget (sensitivity: the accuracy gained by promoting the layer
///   alone to fp16);
/// - under a size, measure the same sequence of plans to its end and keep the most accurate plan
///   within the size (fewer bytes on ties).
public enum PrecisionPlanSearch {
    /// The most accurate plan search under `maxDrop` (absolute top-1 drop from `floatAccuracy`).
    public static func underBudget(
        candidates: [String], floatAccuracy: Double, maxDrop: Double,
        bytes: (PrecisionPlan) throws -> Int, accuracy: (PrecisionPlan) throws -> Double
    ) throws -> PlanSearchResult {
        var m = Measurer()
        func evaluate(_ plan: PrecisionPlan) throws -> (Int, Double) { (try bytes(plan), try accuracy(plan)) }
        let met = { (a: Double) in floatAccuracy - a <= maxDrop + 1e-9 }
        var plan = PrecisionPlan.uniform(candidates, .int8)
        var best = try m.measure(plan, "all int8", evaluate)
        guard !met(best.accuracy) else { return m.result(plan, best, met: true) }
        var bestPlan = plan
        for (node, level) in try promotionOrder(candidates, from: plan, &m, evaluate) {
            plan = plan.with(node, level)
            let trial = try m.measure(plan, "\(node) → \(level.rawValue)", evaluate)
            if trial.accuracy > best.accuracy + 1e-9 { (best, bestPlan) = (trial, plan) }
            if met(trial.accuracy) { return m.result(plan, trial, met: true) }
        }
        return m.result(bestPlan, best, met: false)
    }

    /// The most accurate plan of the promotion sequence within `maxBytes`.
    public static func underSize(
        candidates: [String], maxBytes: Int,
        bytes: (PrecisionPlan) throws -> Int, accuracy: (PrecisionPlan) throws -> Double
    ) throws -> PlanSearchResult {
        var m = Measurer()
        func evaluate(_ plan: PrecisionPlan) throws -> (Int, Double) { (try bytes(plan), try accuracy(plan)) }
        var plan = PrecisionPlan.uniform(candidates, .int8)
        var plans = [(plan, try m.measure(plan, "all int8", evaluate))]
        let order = try promotionOrder(candidates, from: plan, &m, evaluate)
        for (probe, trial) in m.probes { plans.append((probe, trial)) }
        for (node, level) in order {
            plan = plan.with(node, level)
            plans.append((plan, try m.measure(plan, "\(node) → \(level.rawValue)", evaluate)))
        }
        let fitting = plans.filter { $0.1.bytes <= maxBytes }
        guard
            let chosen = fitting.max(by: { a, b in a.1.accuracy != b.1.accuracy ? a.1.accuracy < b.1.accuracy : a.1.bytes > b.1.bytes })
        else {
            let smallest = plans.min { $0.1.bytes < $1.1.bytes }!
            return m.result(smallest.0, smallest.1, met: false)
        }
        return m.result(chosen.0, chosen.1, met: true)
    }

    /// Promotions in order: every candidate to fp16, most sensitive first, then to fp32 in the
    /// same order. Sensitivity probes are measured (and recorded) on the way.
    static func promotionOrder(
        _ candidates: [String], from base: PrecisionPlan, _ m: inout Measurer, _ evaluate: (PrecisionPlan) throws -> (Int, Double)
    ) throws -> [(String, LayerPrecision)] {
        let baseAccuracy = try m.measure(base, "all int8", evaluate).accuracy
        var gains: [(order: Int, node: String, gain: Double)] = []
        for (i, node) in candidates.enumerated() {
            let probe = base.with(node, .fp16)
            let trial = try m.measure(probe, "\(node) → fp16 (probe)", evaluate)
            m.probes.append((probe, trial))
            gains.append((i, node, trial.accuracy - baseAccuracy))
        }
        gains.sort { $0.gain != $1.gain ? $0.gain > $1.gain : $0.order < $1.order }
        return gains.map { ($0.node, LayerPrecision.fp16) } + gains.map { ($0.node, LayerPrecision.fp32) }
    }

    /// Measures plans once each and keeps the trials in order.
    struct Measurer {
        var cache: [PrecisionPlan: PlanTrial] = [:]
        var trials: [PlanTrial] = []
        var probes: [(PrecisionPlan, PlanTrial)] = []

        mutating func measure(_ plan: PrecisionPlan, _ step: String, _ evaluate: (PrecisionPlan) throws -> (Int, Double)) throws -> PlanTrial {
            if let known = cache[plan] { return known }
            let (bytes, accuracy) = try evaluate(plan)
            let trial = PlanTrial(step: step, precisions: plan.counts, bytes: bytes, accuracy: accuracy)
            cache[plan] = trial
            trials.append(trial)
            return trial
        }

        func result(_ plan: PrecisionPlan, _ trial: PlanTrial, met: Bool) -> PlanSearchResult {
            PlanSearchResult(plan: plan, bytes: trial.bytes, accuracy: trial.accuracy, trials: trials, met: met)
        }
    }
}
