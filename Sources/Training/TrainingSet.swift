import TensorCore

/// Samples held in memory for training: student inputs, optional labels and optional teacher
/// logits, row-aligned.
public struct TrainingSet: Sendable {
    /// Student inputs, N×(student per-sample shape).
    public var inputs: Tensor
    /// Class labels, N entries in `0..<classes`, or `nil` for unlabeled data.
    public var labels: [Int]?
    /// Teacher logits, N×classes, or `nil` for hard-label training.
    public var teacherLogits: Tensor?
    /// The teacher's intermediate values for feature distillation (N×… each, in
    /// `FeatureDistillation.matches` order); empty without it.
    public var teacherFeatures: [Tensor] = []
    /// The teacher's inputs, N×(teacher per-sample shape), kept when mixup recomputes the
    /// teacher's logits on blended rows; `nil` otherwise.
    public var teacherInputs: Tensor?
    /// Mixup: the label each row was blended with, and the weight `λ` of the row's own label
    /// (`1 − λ` of the partner's); `nil` for unblended batches.
    public var partnerLabels: [Int]?
    /// Mixup: the weight `λ` of each row's own label; see `partnerLabels`.
    public var mixWeights: [Float]?

    /// A set; fails when the parts disagree on the sample count.
    public init(inputs: Tensor, labels: [Int]?, teacherLogits: Tensor?) throws {
        let n = inputs.shape.first ?? 0
        guard labels.map({ $0.count == n }) ?? true, teacherLogits.map({ $0.shape.first == n }) ?? true else {
            throw ModelPressError.internalError("training set parts disagree on the sample count")
        }
        self.inputs = inputs
        self.labels = labels
        self.teacherLogits = teacherLogits
    }

    /// Number of samples.
    public var count: Int { inputs.shape.first ?? 0 }

    /// Rows `indices` of `t` (N×…) as a new tensor.
    static func gather(_ t: Tensor, _ indices: ArraySlice<Int>) throws -> Tensor {
        let per = t.count / max(1, t.shape[0])
        var out = try Tensor(shape: [indices.count] + t.shape.dropFirst())
        t.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for (row, index) in indices.enumerated() {
                    (dst.baseAddress! + row * per).update(from: src.baseAddress! + index * per, count: per)
                }
            }
        }
        return out
    }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: ArraySlice<Int>) throws -> TrainingSet {
        var set = try TrainingSet(
            inputs: try Self.gather(inputs, indices), labels: labels.map { l in indices.map { l[$0] } },
            teacherLogits: try teacherLogits.map { try Self.gather($0, indices) })
        set.teacherFeatures = try teacherFeatures.map { try Self.gather($0, indices) }
        set.teacherInputs = try teacherInputs.map { try Self.gather($0, indices) }
        return set
    }

    /// Splits off the last `fraction` of the samples (as Keras `validation_split` does, before
    /// any shuffling): `(train, validation)`. Training keeps the first `⌊N·(1 − fraction)⌋`
    /// samples — Keras 3's `split_at` — so 1437 samples at 0.1 leave 1293 + 144.
    public func split(validationFraction fraction: Double) throws -> (TrainingSet, TrainingSet) {
        let held = count - Int((Double(count) * (1.0 - fraction)).rounded(.down))
        guard held >= 1, held < count else {
            throw ModelPressError.invalidArgument("--validation-split \(fraction) leaves \(count - held) training and \(held) validation samples of \(count).\nHINT: choose a fraction that keeps both sides non-empty.")
        }
        let all = Array(0..<count)
        return (try subset(all[0..<(count - held)]), try subset(all[(count - held)...]))
    }
}

extension TrainingSet {
    /// Every sample of `file`, shaped for the first input of `graph`, with its labels (classes:
    /// the last dimension of the graph's first output).
    public init(labelled file: any LabelledBatchSource, for graph: Graph) throws {
        let (x, y) = try Self.read(file, for: graph)
        try self.init(inputs: x, labels: y, teacherLogits: nil)
    }

    /// The inputs (shaped for `graph`'s first input) and labels of every sample of `file`; exit
    /// 2 naming the file and its dataset when its samples cannot feed the model.
    public static func read(_ file: any LabelledBatchSource, for graph: Graph) throws -> (Tensor, [Int]) {
        let shape: [Int]
        do { shape = try file.feedShape(for: graph.inputs[0].shape, model: graph.metadata["source_path"]) } catch {
            throw ModelPressError.invalidData(
                file: file.path, path: file.inputName,
                message: "has samples of shape \(file.sampleShape); the model takes \(Array(graph.inputs[0].shape.dropFirst())).\nHINT: pick the matching dataset with --x-key.")
        }
        return (try file.inputs(0..<file.count, as: shape), try file.labels(0..<file.count, classes: graph.outputs[0].shape.last ?? 0))
    }
}
