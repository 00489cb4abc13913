import TensorCore

extension KerasGraphBuilder {
    /// Add / Subtract / Multiply / Average / Maximum / Minimum: image inputs meet in NCHW,
    /// everything else in Keras layout.
    mutating func merge(_ inputs: [KerasValue], _ className: String, _ config: KerasConfig, name: String) throws -> KerasValue {
        guard inputs.count >= 2 else { throw config.fail("merges \(inputs.count) input(s); needs at least 2") }
        let kind: ElementwiseOp
        switch className {
        case "Add": kind = .add
        case "Subtract":
            guard inputs.count == 2 else { throw config.fail("subtracts exactly two inputs, got \(inputs.count)") }
            kind = .subtract
        case "Multiply": kind = .multiply
        case "Average": kind = .mean
        case "Maximum": kind = .maximum
        default: kind = .minimum
        }
        let aligned = try alignLayouts(inputs, config)
        return try emit(
            .elementwise(kind), aligned.map(\.name), name: name, layer: config.layer,
            channelsFirst: aligned[0].channelsFirst)
    }

    /// Concatenate along the Keras `axis` (default −1).
    mutating func concatenate(_ inputs: [KerasValue], _ config: KerasConfig, name: String) throws -> KerasValue {
        guard !inputs.isEmpty else { throw config.fail("has no inputs") }
        let aligned = try alignLayouts(inputs, config)
        let rank = shape(aligned[0]).count
        var axis = try config.int("axis", default: -1)
        if axis < 0 { axis += rank }
        guard axis >= 1, axis < rank else { throw config.fail("has axis out of range for rank \(rank)") }
        return try emit(
            .concat(axis: irAxis(axis, of: aligned[0])), aligned.map(\.name), name: name, layer: config.layer,
            channelsFirst: aligned[0].channelsFirst)
    }

    /// Brings merge inputs to one layout: NCHW when all are rank 4, else channels-last.
    private mutating func alignLayouts(_ inputs: [KerasValue], _ config: KerasConfig) throws -> [KerasValue] {
        if inputs.allSatisfy({ shape($0).count == 4 }) {
            return try inputs.map { try channelsFirst($0, layer: config.layer) }
        }
        return try inputs.map { try channelsLast($0, layer: config.layer) }
    }
}
