import ArgumentParser
import Training

/// `modelpress distill`: train a student on a teacher's soft labels (and the hard labels).
struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distill a teacher into a (smaller) student with soft labels; write the student as ONNX.",
        discussion: """
            Loss = α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(y, s): α weighs the soft \
            (teacher) term — the Hinton et al. convention; Keras' Distiller example uses α for the \
            hard term instead. Without labels (--y-key none) the loss is T²·KL. Teacher logits are \
            taken before a final softmax (or as log-probabilities), computed once per dataset \
            (--teacher-cache DIR keeps them on disk, keyed by teacher and data SHA-256). Teacher \
            and student may take differently shaped inputs of the same size per sample (8×8×1 and \
            64): the data is reshaped row-major, or use --student-x-key.
            """)

    @Option(help: "Teacher model (any MODEL format).")
    var teacher: String

    @OptionGroup var training: TrainingOptions

    @Option(help: "Distillation temperature T.")
    var temperature: Float = 4

    @Option(help: "Weight α of the soft (teacher) term; 1 − α weighs the hard-label cross-entropy.")
    var alpha: Float = 0.9

    @Option(help: "Directory caching teacher logits across runs.")
    var teacherCache: String?

    func validate() throws {
        guard temperature > 0, temperature.isFinite else { throw ValidationError("--temperature must be positive.") }
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be in [0, 1].") }
    }

    func run() throws {
        try training.runJob(command: "distill", teacher: TeacherSettings(path: teacher, temperature: temperature, alpha: alpha, cache: teacherCache))
    }
}
