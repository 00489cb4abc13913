/// A recurrent layer over a batch-major sequence (Keras SimpleRNN / LSTM / GRU, ONNX RNN / LSTM /
/// GRU in one direction): `[x N×L×C, W C×G·H, R H×G·H, b G·H?, rb G·H?]` → `[y N×L×H, h N×H]`
/// (plus `c N×H` for an LSTM), `y[:, t]` the hidden state after step `t`, `h` (and `c`) the
/// state after the last step processed. `G` gates in Keras's order (LSTM i, f, c, o; GRU z, r, h),
/// each a block of `H` columns of `W`, `R`, `b` and `rb`. A reverse layer processes `t = L−1 … 0`
/// and still writes `y[:, t]` at step `t`'s position (ONNX `direction="reverse"`). A masked layer
/// reads a step mask N×L after `R` (`[x, W, R, mask, b?, rb?]`): a step whose mask is 0 leaves
/// the state as it was (Keras's masking), and `y` there is the state carried or zero (`masked`).
public struct Recurrent: OpDefinition {
    /// What a masked layer writes to `y` at a skipped step (Keras `zero_output_for_mask`).
    public enum MaskedOutput: Hashable, Sendable {
        /// The state carried over the step (Keras's default).
        case state
        /// Zero (Keras inside Bidirectional with `return_sequences`).
        case zero
    }

    /// The cell that updates the state at each step.
    public enum Cell: Hashable, Sendable {
        /// `h = act(x·W + b + h·R)`: one gate.
        case simple
        /// Keras LSTM: `i, f, o = gate(·)`, `g = act(·)`, `c = f⊙c + i⊙g`, `h = o⊙output(c)`.
        case lstm
        /// Keras GRU: `z, r = gate(·)`, `n = act(x·W_h + b_h + r⊙(h·R_h + rb_h))` when
        /// `resetAfter` (ONNX `linear_before_reset`), else `act(x·W_h + b_h + (r⊙h)·R_h)`;
        /// `h = z⊙h + (1 − z)⊙n`.
        case gru(resetAfter: Bool)

        /// Gates per step (blocks of `H` columns).
        public var gates: Int {
            switch self {
            case .simple: 1
            case .lstm: 4
            case .gru: 3
            }
        }
    }

    /// The most hidden units an importer accepts (a bound against hostile files, far above any model).
    public static let maxUnits = 1 << 24

    /// The cell.
    public var cell: Cell
    /// Hidden units `H`.
    public var units: Int
    /// Whether steps run from the last to the first.
    public var reverse: Bool
    /// The gate activation (Keras `recurrent_activation`; unused by a simple cell).
    public var gate: Activation
    /// The candidate activation (Keras `activation`).
    public var candidate: Activation
    /// The activation of an LSTM's cell state in its output (Keras applies `activation`).
    public var output: Activation
    /// Set when the layer reads a step mask (input 3): what it writes at skipped steps.
    public var masked: MaskedOutput?

    /// The activation of each gate block, in Keras's gate order (the candidate's is `candidate`).
    public var gateActivations: [Activation] {
        switch cell {
        case .simple: [candidate]
        case .lstm: [gate, gate, candidate, gate]
        case .gru: [gate, gate, candidate]
        }
    }

    /// A recurrent layer of `units` hidden units.
    public init(cell: Cell, units: Int, reverse: Bool, gate: Activation = .sigmoid, candidate: Activation = .tanh, output: Activation = .tanh, masked: MaskedOutput? = nil) {
        self.cell = cell
        self.masked = masked
        self.units = units
        self.reverse = reverse
        self.gate = gate
        self.candidate = candidate
        self.output = output
    }

    public var name: String {
        switch cell {
        case .simple: "RNN"
        case .lstm: "LSTM"
        case .gru: "GRU"
        }
    }
    public var signature: OpSignature {
        OpSignature([.data, .weight, .recurrentWeight] + (masked == nil ? [] : [.mask]), optional: [.bias, .recurrentBias])
    }
    public var trainableInputs: [Int] { masked == nil ? [1, 2, 3, 4] : [1, 2, 4, 5] }
    /// The position of the first bias (after the mask, when masked).
    public var firstBias: Int { masked == nil ? 3 : 4 }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .refuses("a recurrent layer's units feed back into every gate") }
    /// Stays float (its state feeds back through every step).
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0), w = try check.input(inputs, 1), r = try check.input(inputs, 2)
        guard units >= 1, let width = Checked.multiply(cell.gates, units) else { throw check.fail("has \(units) units") }
        guard x.count == 3, x[1] >= 1, w == [x[2], width], r == [units, width] else {
            throw check.fail("expects x N×L×C, W C×\(width) and R \(units)×\(width) for \(units) units, got \(x), \(w) and \(r)")
        }
        if masked != nil, try check.input(inputs, 3) != [x[0], x[1]] {
            throw check.fail("expects a step mask \(x[0])×\(x[1]), got \(inputs[3])")
        }
        for i in firstBias..<max(firstBias, inputs.count) where inputs[i] != [width] {
            throw check.fail("expects biases of \(width), got \(inputs[i])")
        }
        if case .gru(false) = cell, inputs.count > firstBias + 1 { throw check.fail("a GRU that resets before its product has no recurrent bias") }
        let state = [x[0], units]
        return [[x[0], x[1], units], state] + (cell == .lstm ? [state] : [])
    }

    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int {
        guard inputs.count >= 3, inputs[0].count == 3 else { return 0 }
        return inputs[0][1] * (inputs[1].reduce(1, *) + inputs[2].reduce(1, *))
    }
}
