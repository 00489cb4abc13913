import TensorCore
import Testing
import Training
import _TestSupport

/// A graph of one node `op` reading `input` (shape [N]+…) and the named weights, followed by an
/// identity (so a final softmax is not stripped as "the logits' softmax").
func singleNodeGraph(_ op: Op, inputShape: [Int], weights: [(String, Tensor)] = [], extraInputs: [String] = []) throws -> Graph {
    var g = Graph(name: "check")
    try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch] + inputShape.dropFirst()))
    for (name, t) in weights { try g.addInitializer(name, t) }
    try g.append(Node(name: "node", op: op, inputs: ["x"] + extraInputs + weights.map(\.0), output: "y"))
    try g.append(Node(name: "out", op: .identity, inputs: ["y"], output: "out"))
    g.outputs = [ValueInfo(name: "out", shape: g.shapes["out"] ?? [])]
    return g
}

/// `Σ r ⊙ model(x)` in Double, with dropout masks drawn from a fixed seed.
func projectedLoss(_ model: TrainableModel, _ x: Tensor, _ r: Tensor, batchNorm: BatchNormMode) throws -> Double {
    var random = TrainingRandom(seed: 77)
    let out = try GradientTape.forward(model, input: x, training: true, batchNorm: batchNorm, random: &random).output
    return zip(out.storage, r.storage).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

/// Norm-wise relative error `‖a − b‖ / max(‖a‖, ‖b‖, tiny)`.
func relativeError(_ a: [Float], _ b: [Double]) -> Double {
    var diff = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) { diff += (Double(x) - y) * (Double(x) - y); na += Double(x) * Double(x); nb += y * y }
    return diff.squareRoot() / max(na.squareRoot(), nb.squareRoot(), 1e-9)
}

/// Checks the tape's gradients of `Σ r ⊙ output` with respect to the input and every trainable
/// parameter against central differences with step `h`; reports the worst tensor.
func checkGradients(
    _ graph: Graph, input: Tensor, dropout: [String: Float] = [:], batchNorm: BatchNormMode = .batchStatistics,
    h: Float = 1e-2, tolerance: Double = 1e-3, checkInput: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var model = try TrainableModel(graph: graph, dropout: dropout)
    var generator = SeededGenerator(seed: 99)
    var random = TrainingRandom(seed: 77)
    let tape = try GradientTape.forward(model, input: input, training: true, batchNorm: batchNorm, random: &random)
    let r = randomTensor(tape.output.shape, &generator)
    let grads = try GradientTape.backward(model, tape: tape, outputGradient: r, batchNorm: batchNorm)

    func numeric(_ count: Int, _ perturb: (Int, Float) -> Void) throws -> [Double] {
        try (0..<count).map { i in
            perturb(i, h)
            let plus = try projectedLoss(model, input, r, batchNorm: batchNorm)
            perturb(i, -2 * h)
            let minus = try projectedLoss(model, input, r, batchNorm: batchNorm)
            perturb(i, h)
            return (plus - minus) / (2 * Double(h))
        }
    }
    if checkInput {
        var x = input
        let expected = try (0..<x.count).map { i -> Double in
            x.storage[i] += h
            let plus = try projectedLoss(model, x, r, batchNorm: batchNorm)
            x.storage[i] -= 2 * h
            let minus = try projectedLoss(model, x, r, batchNorm: batchNorm)
            x.storage[i] += h
            return (plus - minus) / (2 * Double(h))
        }
        let got = try #require(grads.input, sourceLocation: sourceLocation)
        let error = relativeError(got.storage, expected)
        #expect(error < tolerance, "input gradient: relative error \(error)", sourceLocation: sourceLocation)
    }
    for (index, name) in model.parameters.enumerated() {
        let count = model.graph.initializers[name]?.count ?? 0
        let expected = try numeric(count) { i, delta in model.graph.initializers[name]?.storage[i] += delta }
        let error = relativeError(grads.parameters[index].storage, expected)
        #expect(error < tolerance, "gradient of '\(name)': relative error \(error)", sourceLocation: sourceLocation)
    }
}

/// Values uniform in ±1 but at least `gap` away from every point in `kinks` (so ±h never crosses one).
func awayFromKinks(_ shape: [Int], kinks: [Float], gap: Float = 0.05, scale: Float = 1, seed: UInt64 = 5) throws -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    var values: [Float] = []
    while values.count < count {
        let v = Float.random(in: -scale...scale, using: &generator)
        if kinks.allSatisfy({ abs(v - $0) > gap }) { values.append(v) }
    }
    return try Tensor(shape: shape, storage: values)
}

/// Distinct values (a seeded permutation of a 0.1-spaced grid), so max-style ops have a
/// unique winner that ±h cannot change.
func distinctValues(_ shape: [Int], seed: UInt64 = 3) throws -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    let grid = (0..<count).map { Float($0) * 0.1 - Float(count) * 0.05 }.shuffled(using: &generator)
    return try Tensor(shape: shape, storage: grid)
}

/// A seeded tensor in ±1.
func random(_ shape: [Int], seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return randomTensor(shape, &generator)
}
