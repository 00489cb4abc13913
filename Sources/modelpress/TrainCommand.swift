import ArgumentParser

/// `modelpress train`: hard-label training, the baseline a distillation is compared with.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on hard labels (cross-entropy from logits); write it as ONNX.",
        discussion: """
            The same engine, flags and determinism as distill, without a teacher: equal seeds give \
            bit-identical weights. A final softmax of a checkpoint student is kept in the output \
            but trained through as logits.
            """)

    @OptionGroup var training: TrainingOptions

    func run() throws {
        try training.runJob(command: "train", teacher: nil)
    }
}
