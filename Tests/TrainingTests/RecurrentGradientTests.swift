import TensorCore
import Testing
import Training
import _TestSupport

/// Backpropagation through time of `recurrent` (every cell, both directions), of `reverse` and of
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
        var generator = SeededGenerator(seed: 11 + UInt64(index))
        let (steps, features, units) = (4, 3, 2)
        let width = cell.gates * units
        let op = Recurrent(cell: cell, units: units, reverse: reverse, gate: .sigmoid, candidate: .tanh, output: .softsign)
        var g = Graph(name: "rnn")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, steps, features]))
        try g.addInitializer("w", randomTensor([features, width], &generator))
        try g.addInitializer("r", randomTensor([units, width], &generator))
        try g.addInitializer("b", randomTensor([width], &generator))
        var inputs = ["x", "w", "r", "b"]
        if case .gru(true) = cell {
            try g.addInitializer("rb", randomTensor([width], &generator))
            inputs.append("rb")
        }
        let outputs = ["y", "h"] + (cell == .lstm ? ["c"] : [])
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
