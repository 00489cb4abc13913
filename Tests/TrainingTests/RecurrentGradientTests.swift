import TensorCore
import Testing
import Training
import _TestSupport

/// Backpropagation through time of `recurrent` (every cell, both directions, with and without a
/// step mask), of `reverse` and of
/// the attention product `matMul`,
/// against central differences: gradients of every output (the sequence, the last hidden state,
/// an LSTM's cell state) reach the input, both weight matrices and both biases.
@Suite struct RecurrentGradientTests {
    static let cells: [(Recurrent.Cell, Bool)] = [
        (.simple, false), (.simple, true), (.lstm, false), (.lstm, true),
        (.gru(resetAfter: true), false), (.gru(resetAfter: true), true), (.gru(resetAfter: false), false), (.gru(resetAfter: false), true),
    ]

    @Test(arguments: 0..<cells.count)
    func recurrentCell(_ index: Int) throws {
        let (cell, reverse) = Self.cells[index]
        let op = Recurrent(cell: cell, units: 2, reverse: reverse, gate: .sigmoid, candidate: .tanh, output: .softsign)
        try checkRecurrent(op, steps: 4, seed: 11 + UInt64(index))
    }

    /// A masked layer (Keras masks): skipped steps carry the state, the mask itself is no
    /// parameter. The mask N×L is `0·mean(x) + [0, 1, 0, 1, 1]` so it does not move with `x`.
    @Test(arguments: 0..<(2 * cells.count))
    func maskedRecurrentCell(_ index: Int) throws {
        let (cell, reverse) = Self.cells[index % Self.cells.count]
        let masked: Recurrent.MaskedOutput = index < Self.cells.count ? .state : .zero
        let op = Recurrent(cell: cell, units: 2, reverse: reverse, gate: .sigmoid, candidate: .tanh, output: .softsign, masked: masked)
        try checkRecurrent(op, steps: 5, seed: 41 + UInt64(index)) { g in
            try g.addInitializer("zero", Tensor(scalar: 0))
            try g.addInitializer("kept", Tensor(shape: [1, 5], storage: [0, 1, 0, 1, 1]))
            try g.append(Node(name: "zeros", op: .elementwise(.multiply), inputs: ["x", "zero"], output: "zeros"))
            try g.append(Node(name: "per_step", op: .reduceMean(ReduceMean(axes: [2], keepDims: false)), inputs: ["zeros"], output: "per_step"))
            try g.append(Node(name: "mask", op: .elementwise(.add), inputs: ["per_step", "kept"], output: "mask"))
            return "mask"
        }
    }

    /// Checks every gradient of one `op` node on x N×`steps`×3 (its sequence, last state and an
    /// LSTM's cell state, joined), reading the mask `addMask` builds as input 3 when given.
    private func checkRecurrent(_ op: Recurrent, steps: Int, seed: UInt64, addMask: ((inout Graph) throws -> String)? = nil) throws {
        var generator = SeededGenerator(seed: seed)
        let features = 3, width = op.cell.gates * op.units
        var g = Graph(name: "rnn")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, steps, features]))
        let mask = try addMask?(&g)
        try g.addInitializer("w", randomTensor([features, width], &generator))
        try g.addInitializer("r", randomTensor([op.units, width], &generator))
        try g.addInitializer("b", randomTensor([width], &generator))
        var inputs = ["x", "w", "r"] + (mask.map { [$0] } ?? []) + ["b"]
        if case .gru(true) = op.cell {
            try g.addInitializer("rb", randomTensor([width], &generator))
            inputs.append("rb")
        }
        let outputs = ["y", "h"] + (op.cell == .lstm ? ["c"] : [])
        try g.append(Node(name: "rnn", op: .recurrent(op), inputs: inputs, outputs: outputs))
        try g.append(Node(name: "flat", op: .flatten, inputs: ["y"], output: "flat"))
        try g.append(Node(name: "join", op: .concat(axis: 1), inputs: ["flat"] + outputs.dropFirst(), output: "out"))
        g.outputs = [ValueInfo(name: "out", shape: g.shapes["out"]!)]
        try checkGradients(g, input: randomTensor([3, steps, features], in: -1.5...1.5, &generator), h: 1e-2, tolerance: 2e-3)
    }

    @Test func matMulOfTwoActivations() throws {
        // x N×2×3×4 times its own transposed tanh N×2×4×3 (both operands carry gradient).
        var generator = SeededGenerator(seed: 6)
        var g = Graph(name: "matmul")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 2, 3, 4]))
        try g.append(Node(name: "t", op: .activation(.tanh), inputs: ["x"], output: "t"))
        try g.append(Node(name: "tt", op: .transpose([0, 1, 3, 2]), inputs: ["t"], output: "tt"))
        try g.append(Node(name: "mm", op: .matMul(MatMul()), inputs: ["x", "tt"], output: "out"))
        g.outputs = [ValueInfo(name: "out", shape: g.shapes["out"]!)]
        try checkGradients(g, input: randomTensor([2, 2, 3, 4], &generator))
    }

    @Test func reverseSendsGradientsBack() throws {
        var generator = SeededGenerator(seed: 5)
        let graph = try singleNodeGraph(.reverse(Reverse(axis: 1)), inputShape: [2, 5, 3], weights: [])
        try checkGradients(graph, input: randomTensor([2, 5, 3], &generator))
    }
}
