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
            64): the data is reshaped row-major, or use --student-x-key. --match adds feature \
            distillation: the distance between matched intermediate layers (same positions; a learned \
            projection when the channel counts differ), weighted by --feature-weight.
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

    @Option(help: "Feature distillation: match intermediate layers TEACHER_LAYER:STUDENT_LAYER[,…] (same positions; a learned projection when the channel counts differ).")
    var match: String?

    @Option(help: "Feature loss for --match: l2 or cosine.")
    var featureLoss = FeatureLoss.l2

    @Option(help: "Weight of the feature loss next to the logit loss.")
    var featureWeight: Float = 1

    func validate() throws {
        guard temperature > 0, temperature.isFinite else { throw ValidationError("--temperature must be positive.") }
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be in [0, 1].") }
        guard featureWeight >= 0, featureWeight.isFinite else { throw ValidationError("--feature-weight must be a number ≥ 0.") }
    }

    func run() throws {
        var settings = TeacherSettings(path: teacher, temperature: temperature, alpha: alpha, cache: teacherCache)
        settings.match = match
        settings.featureLoss = featureLoss
        settings.featureWeight = featureWeight
        try training.runJob(command: "distill", teacher: settings)
    }
}
