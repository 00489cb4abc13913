import ArgumentParser
import Quantization
import Training

/// `quantize --qat`: quantization-aware fine-tuning before the final calibration.
struct QATOptions: ParsableArguments {
    @Flag(help: "Quantization-aware training: fine-tune the BatchNorm-folded model with weights and activations fake-quantized (straight-through gradients) on --train, then quantize it as usual.")
    var qat = false

    @Option(help: "Labelled HDF5 training data for --qat (inputs named by --x-key, labels by --y-key).")
    var train: String?

    @Option(help: "QAT epochs.")
    var epochs = 3

    @Option(help: "QAT learning rate (Adam).")
    var learningRate: Float = 1e-4

    @Option(help: "QAT samples per optimizer step.")
    var trainBatchSize = 32

    @Option(help: "QAT seed (shuffling).")
    var seed: UInt64 = 0

    func validate() throws {
        guard qat else {
            guard train == nil else { throw ValidationError("--train is the data of --qat; add --qat.") }
            return
        }
        guard train != nil else { throw ValidationError("--qat needs --train TRAIN.h5 (labelled data to fine-tune on).") }
        guard epochs >= 1, trainBatchSize >= 1 else { throw ValidationError("--epochs and --train-batch-size must be at least 1.") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be a positive number, not \(learningRate).") }
    }

    /// The QAT the options describe, or nil without --qat.
    var training: QuantizationAwareTraining? {
        guard qat else { return nil }
        var c = TrainingConfiguration()
        c.epochs = epochs
        c.learningRate = learningRate
        c.batchSize = trainBatchSize
        c.seed = seed
        return QuantizationAwareTraining(training: c)
    }
}
