import ArgumentParser
import TensorCore
import Training

/// The flags `train` and `distill` share: data, student, recipe, validation, output.
struct TrainingOptions: ParsableArguments {
    @Option(
        help:
            "Student: a checkpoint (any MODEL format; its weights are the initial weights), a spec such as dense:64,32 (Flatten → Dense(64, relu) → Dense(32, relu) → Dense(classes); dropoutR adds Dropout(R)), conv:16,32, lstm:32 (stacked LSTMs on N×steps×features → Dense(classes)), transformer:2,32,4 (2 encoder blocks of width 32, 4 heads, on N×steps×features; both read a sample of rank > 2 as steps × the rest, so 8×8×1 is 8 steps of 8), or a JSON spec file of layers (conv, depthwise_conv, separable_conv, batchnorm, pooling, dense, dropout, …; see Sources/Training/README.md)."
    )
    var student: String

    @Option(help: "HDF5 training data.")
    var data: String

    @OptionGroup var policy: LoadPolicyOptions

    @Option(name: [.short, .customLong("out")], help: "Output model (.onnx), written atomically.")
    var out: String

    @Option(help: "Input dataset name (teacher input, and student input unless --student-x-key).")
    var xKey = "x"

    @Option(help: "Input dataset for the student (e.g. x_flat); default: --x-key reshaped row-major.")
    var studentXKey: String?

    @Option(help: "Label dataset name, or 'none' for unlabeled data (distill only).")
    var yKey = "y"

    @Option(help: "Passes over the training data.")
    var epochs = 10

    @Option(help: "Samples per optimizer step.")
    var batchSize = 32

    @Option(help: "Optimizer.")
    var optimizer = OptimizerKind.adam

    @Option(help: "Base learning rate.")
    var learningRate: Float = 1e-3

    @Option(help: "Learning-rate schedule: constant, step:EVERY_EPOCHS:FACTOR, cosine[:WARMUP_EPOCHS[:FLOOR]].")
    var lrSchedule = "constant"

    @Option(help: "SGD momentum.")
    var momentum: Float = 0

    @Flag(help: "SGD with Nesterov momentum.")
    var nesterov = false

    @Option(help: "Decoupled weight decay (AdamW default 0.004, others 0).")
    var weightDecay: Float?

    @Option(help: "Clip gradients to this global L2 norm.")
    var clipNorm: Float?

    @Option(help: "Label smoothing of the hard-label cross-entropy.")
    var labelSmoothing: Float = 0

    @Flag(help: "Mixup: blend each batch's samples in pairs (weights uniform in [0, 1)) and their labels; distill recomputes the teacher's logits on the blended samples (function matching).")
    var mixup = false

    @Option(help: "Hold out the last FRACTION of the data for validation (as Keras validation_split).")
    var validationSplit: Double?

    @Option(help: "Separate HDF5 validation data (same dataset names).")
    var validation: String?

    @Option(help: "Stop after PATIENCE epochs without a lower validation loss; keep the best weights.")
    var earlyStopping: Int?

    @Option(help: "Batch normalization while training: batch (batch statistics, running averages updated) or frozen.")
    var batchNorm = BatchNormMode.batchStatistics

    @Option(help: "Seed of initialisation, shuffling and dropout; equal seeds give bit-identical weights.")
    var seed: UInt64 = 0

    @Option(help: "Write a JSON training log (per-epoch losses, accuracies, times) to this file.")
    var log: String?

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        guard out.lowercased().hasSuffix(".onnx") else {
            throw ValidationError("-o \(out): training writes ONNX; name the output *.onnx (Keras .h5 output is not supported).")
        }
        guard epochs >= 1, batchSize >= 1 else { throw ValidationError("--epochs and --batch-size must be at least 1.") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive.") }
        guard (0..<1).contains(labelSmoothing) else { throw ValidationError("--label-smoothing must be in [0, 1).") }
        if validationSplit != nil && validation != nil { throw ValidationError("give --validation-split or --validation, not both.") }
        if let s = validationSplit, !(s > 0 && s < 1) { throw ValidationError("--validation-split must be between 0 and 1.") }
        if let p = earlyStopping {
            guard p >= 1 else { throw ValidationError("--early-stopping must be at least 1.") }
            guard validationSplit != nil || validation != nil else {
                throw ValidationError("--early-stopping needs validation data: add --validation-split 0.1 or --validation D.h5.")
            }
        }
    }

    /// The recipe these flags describe (`stepsPerEpoch` converts epoch-based schedules).
    func configuration(stepsPerEpoch: Int) throws -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = epochs
        c.batchSize = batchSize
        c.learningRate = learningRate
        c.optimizer = OptimizerConfiguration(kind: optimizer)
        c.optimizer.momentum = momentum
        c.optimizer.nesterov = nesterov
        c.optimizer.weightDecay = weightDecay
        c.optimizer.clipGlobalNorm = clipNorm
        c.schedule = try LearningRateSchedule.parse(lrSchedule, stepsPerEpoch: stepsPerEpoch, epochs: epochs)
        c.labelSmoothing = labelSmoothing
        c.seed = seed
        c.earlyStoppingPatience = earlyStopping
        c.batchNorm = batchNorm
        return c
    }
}
