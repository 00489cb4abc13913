import Foundation
import TensorCore

/// A student architecture written on the command line. `dense:64,32` is
/// Flatten → Dense(64, relu) → Dense(32, relu) → Dense(classes) (logits); an entry `dropout0.2`
/// adds Dropout(0.2) (training only) after the layer before it. `conv:16,32` (NHWC image
/// input) is, per width, Conv2D(3×3, same, no bias) → BatchNormalization → ReLU →
/// MaxPooling2D(2) (while the image is at least 2×2), then GlobalAveragePooling2D → Dense(classes).
/// `lstm:32,16` (sequence input N×steps×features) is stacked LSTMs (all but the last returning
/// their sequences) → Dense(classes) on the last one's final state. `transformer:L,d,heads`
/// (sequence input) is a Transformer encoder of L post-norm blocks of width d
/// (`StudentSpec+Transformer.swift`) → mean over steps → Dense(classes).
public struct StudentSpec: Sendable, Equatable {
    /// One hidden layer.
    public enum Layer: Sendable, Equatable {
        /// Dense(units, relu).
        case dense(Int)
        /// Dropout(rate) in training.
        case dropout(Float)
        /// Conv2D(filters, 3×3, same) → BN → ReLU → MaxPool(2).
        case conv(Int)
        /// LSTM(units) (tanh, sigmoid gates).
        case lstm(Int)
        /// `blocks` Transformer encoder blocks of `width` with `heads` attention heads.
        case transformer(blocks: Int, width: Int, heads: Int)
    }

    /// Hidden layers in order (the classifier layer is implied).
    public var layers: [Layer]

    /// Parses `dense:U1,U2,…`, `conv:F1,F2,…` or `lstm:U1,U2,…`; `nil` when `text` is not a
    /// spec (then it names a checkpoint).
    public static func parse(_ text: String) throws -> StudentSpec? {
        if text.hasPrefix("transformer:") { return try parseTransformer(text) }
        let conv = text.hasPrefix("conv:"), lstm = text.hasPrefix("lstm:")
        guard conv || lstm || text.hasPrefix("dense:") else { return nil }
        let items = text.drop(while: { $0 != ":" }).dropFirst().split(separator: ",", omittingEmptySubsequences: false)
        var layers: [Layer] = []
        for item in items {
            let token = item.trimmingCharacters(in: .whitespaces)
            if !conv && !lstm, token.hasPrefix("dropout"), let rate = Float(token.dropFirst("dropout".count)), rate >= 0, rate < 1, !layers.isEmpty {
                layers.append(.dropout(rate))
            } else if let units = Int(token), units >= 1, units <= 1 << 16 {
                layers.append(conv ? .conv(units) : lstm ? .lstm(units) : .dense(units))
            } else {
                throw ModelPressError.invalidArgument(
                    "student spec '\(text)': '\(token)' is not a layer width\(conv || lstm ? "" : " or dropoutRATE").\nHINT: write e.g. dense:64,32, dense:128,dropout0.2,64, conv:16,32, lstm:32 or transformer:2,32,4.")
            }
        }
        return StudentSpec(layers: layers)
    }

    /// The student graph for per-sample input shape `sampleShape` and `classes` outputs,
    /// initialised like Keras (Glorot-uniform kernels `U(±sqrt(6/(fan_in + fan_out)))`, zero
    /// biases) from `seed`. Input `input` [N]+sampleShape, output `logits` [N, classes].
    public func build(sampleShape: [Int], classes: Int, seed: UInt64) throws -> TrainableModel {
        guard let features = Checked.product(sampleShape), features > 0, classes >= 2 else {
            throw ModelPressError.invalidArgument("cannot build a student for samples of shape \(sampleShape) and \(classes) classes")
        }
        var random = TrainingRandom(seed: seed, stream: .initialization)
        var graph = Graph(name: "student")
        graph.metadata["source_format"] = "modelpress-spec"
        let convolutional = layers.contains { if case .conv = $0 { return true } else { return false } }
        let recurrent = layers.contains { if case .lstm = $0 { return true } else { return false } }
        var transformer: (blocks: Int, width: Int, heads: Int)?
        if case .transformer(let blocks, let width, let heads)? = layers.first { transformer = (blocks, width, heads) }
        // Sequence students read a sample of rank > 2 as steps × the product of the other axes
        // (8×8×1 digits: 8 steps of 8 features); the data is fed reshaped row-major.
        let sequence = !convolutional && (recurrent || transformer != nil)
        let shape = sequence && sampleShape.count > 2 ? [sampleShape[0], features / sampleShape[0]] : sampleShape
        try graph.addInput(ValueInfo(name: "input", shape: [dynamicBatch] + shape))
        if convolutional {
            return try buildConvolutional(sampleShape: sampleShape, classes: classes, graph: &graph, random: &random)
        }
        if recurrent {
            return try buildRecurrent(sampleShape: shape, classes: classes, graph: &graph, random: &random)
        }
        if let transformer {
            return try buildTransformer(blocks: transformer.blocks, width: transformer.width, heads: transformer.heads, sampleShape: shape, classes: classes, graph: &graph, random: &random)
        }
        try graph.append(Node(name: "flatten", op: .flatten, inputs: ["input"], output: "flatten"))
        var current = "flatten", width = features, index = 0
        var dropout: [String: Float] = [:]
        func dense(_ name: String, units: Int, relu: Bool) throws {
            let limit = (6 / Float(width + units)).squareRoot()
            let kernel = try Tensor(shape: [width, units], storage: (0..<(width * units)).map { _ in random.uniform(-limit, limit) })
            try graph.addInitializer(name + "/kernel", kernel)
            try graph.addInitializer(name + "/bias", try Tensor(shape: [units]))
            try graph.append(Node(name: name, op: .linear, inputs: [current, name + "/kernel", name + "/bias"], output: name))
            current = name
            if relu {
                try graph.append(Node(name: name + "/relu", op: .activation(.relu), inputs: [name], output: name + "/relu", layer: name))
                current = name + "/relu"
            }
            width = units
        }
        for layer in layers {
            switch layer {
            case .dense(let units):
                index += 1
                try dense("dense_\(index)", units: units, relu: true)
            case .dropout(let rate): dropout[current] = rate
            case .conv, .lstm, .transformer: break
            }
        }
        try dense("logits", units: classes, relu: false)
        graph.outputs = [ValueInfo(name: current, shape: [dynamicBatch, classes])]
        return try TrainableModel(graph: graph, dropout: dropout, source: "student spec")
    }
}

extension StudentSpec {
    /// The `conv:` student: NHWC input transposed to NCHW, conv blocks, GAP, Dense(classes).
    func buildConvolutional(sampleShape: [Int], classes: Int, graph: inout Graph, random: inout TrainingRandom) throws -> TrainableModel {
        guard sampleShape.count == 3 else {
            throw ModelPressError.invalidArgument("student spec conv: needs image samples H×W×C (channels last), not \(sampleShape).\nHINT: use --x-key x (the N×H×W×C dataset) or a dense: student.")
        }
        var (height, width, channels) = (sampleShape[0], sampleShape[1], sampleShape[2])
        try graph.append(Node(name: "input/nchw", op: .transpose([0, 3, 1, 2]), inputs: ["input"], output: "input/nchw", layer: "input"))
        var current = "input/nchw"
        func uniform(_ shape: [Int], fanIn: Int, fanOut: Int) throws -> Tensor {
            let limit = (6 / Float(fanIn + fanOut)).squareRoot()
            let count = shape.reduce(1, *)
            return try Tensor(shape: shape, storage: (0..<count).map { _ in random.uniform(-limit, limit) })
        }
        for (i, layer) in layers.enumerated() {
            guard case .conv(let filters) = layer else { continue }
            let name = "conv_\(i + 1)", bn = "bn_\(i + 1)"
            try graph.addInitializer(name + "/kernel", try uniform([filters, channels, 3, 3], fanIn: channels * 9, fanOut: filters * 9))
            try graph.append(
                Node(
                    name: name, op: .conv2D(Conv2DAttributes(kernel: Size2D(3, 3), pads: Padding2D(top: 1, left: 1, bottom: 1, right: 1))),
                    inputs: [current, name + "/kernel"], output: name))
            for (suffix, value) in [("gamma", Float(1)), ("beta", 0), ("moving_mean", 0), ("moving_variance", 1)] {
                try graph.addInitializer("\(bn)/\(suffix)", try Tensor(shape: [filters], repeating: value))
            }
            try graph.append(
                Node(
                    name: bn, op: .batchNormalization(epsilon: 1e-3),
                    inputs: [name, bn + "/gamma", bn + "/beta", bn + "/moving_mean", bn + "/moving_variance"], output: bn))
            try graph.append(Node(name: bn + "/relu", op: .activation(.relu), inputs: [bn], output: bn + "/relu", layer: bn))
            current = bn + "/relu"
            if height >= 2 && width >= 2 {
                let pool = "pool_\(i + 1)"
                try graph.append(Node(name: pool, op: .maxPool2D(Pool2DAttributes(kernel: Size2D(2, 2), strides: Size2D(2, 2))), inputs: [current], output: pool))
                current = pool
                (height, width) = (height / 2, width / 2)
            }
            channels = filters
        }
        try graph.append(Node(name: "gap/pool", op: .globalAveragePool, inputs: [current], output: "gap/pool", layer: "gap"))
        try graph.append(Node(name: "gap", op: .flatten, inputs: ["gap/pool"], output: "gap"))
        try graph.addInitializer("logits/kernel", try uniform([channels, classes], fanIn: channels, fanOut: classes))
        try graph.addInitializer("logits/bias", try Tensor(shape: [classes]))
        try graph.append(Node(name: "logits", op: .linear, inputs: ["gap", "logits/kernel", "logits/bias"], output: "logits"))
        graph.outputs = [ValueInfo(name: "logits", shape: [dynamicBatch, classes])]
        return try TrainableModel(graph: graph, source: "student spec")
    }
}

extension StudentSpec {
    /// The `lstm:` student: stacked LSTMs on the N×steps×features input, then Dense(classes) on
    /// the last state. Kernels Glorot-uniform, biases zero but the forget gate's one (Keras's
    /// `unit_forget_bias`); the recurrent kernel Glorot-uniform too (Keras draws it orthogonal).
    func buildRecurrent(sampleShape: [Int], classes: Int, graph: inout Graph, random: inout TrainingRandom) throws -> TrainableModel {
        guard sampleShape.count == 2 else {
            throw ModelPressError.invalidArgument("student spec lstm: needs sequence samples steps × features, not \(sampleShape).\nHINT: use --student-x-key with an N×steps×features dataset, or a dense: student.")
        }
        func uniform(_ shape: [Int], fanIn: Int, fanOut: Int) throws -> Tensor {
            let limit = (6 / Float(fanIn + fanOut)).squareRoot()
            return try Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in random.uniform(-limit, limit) })
        }
        let widths = layers.compactMap { layer -> Int? in if case .lstm(let units) = layer { return units } else { return nil } }
        var current = "input", features = sampleShape[1]
        for (i, units) in widths.enumerated() {
            let name = "lstm_\(i + 1)", last = i == widths.count - 1
            try graph.addInitializer(name + "/kernel", try uniform([features, 4 * units], fanIn: features, fanOut: 4 * units))
            try graph.addInitializer(name + "/recurrent_kernel", try uniform([units, 4 * units], fanIn: units, fanOut: 4 * units))
            try graph.addInitializer(name + "/bias", try Tensor(shape: [4 * units], storage: (0..<(4 * units)).map { $0 / units == 1 ? 1 : 0 }))
            let outputs = [name + "/sequence", name + "/state_h", name + "/state_c"]
            try graph.append(
                Node(
                    name: name, op: .recurrent(Recurrent(cell: .lstm, units: units, reverse: false)),
                    inputs: [current, name + "/kernel", name + "/recurrent_kernel", name + "/bias"], outputs: outputs, layer: name))
            current = last ? outputs[1] : outputs[0]
            features = units
        }
        try graph.addInitializer("logits/kernel", try uniform([features, classes], fanIn: features, fanOut: classes))
        try graph.addInitializer("logits/bias", try Tensor(shape: [classes]))
        try graph.append(Node(name: "logits", op: .linear, inputs: [current, "logits/kernel", "logits/bias"], output: "logits"))
        graph.outputs = [ValueInfo(name: "logits", shape: [dynamicBatch, classes])]
        return try TrainableModel(graph: graph, source: "student spec")
    }
}
