import Engine
import Evaluation
import Foundation
import ModelIO
import ModelLoading
import ONNXIO
import TensorCore

/// The teacher side of a distillation job (absent for `train`).
public struct TeacherSettings: Sendable {
    /// Teacher model file (any format `ModelLoader` reads).
    public var path: String
    /// Distillation temperature T.
    public var temperature: Float
    /// Weight α of the soft term.
    public var alpha: Float
    /// Directory caching teacher logits across runs.
    public var cache: String?
    /// Feature distillation: `teacher_layer:student_layer,…` (nil: logits only), the loss and its weight.
    public var match: String?
    public var featureLoss = FeatureLoss.l2
    public var featureWeight: Float = 1

    /// The teacher at `path` with temperature, α and an optional logit cache.
    public init(path: String, temperature: Float, alpha: Float, cache: String?) {
        self.path = path
        self.temperature = temperature
        self.alpha = alpha
        self.cache = cache
    }
}

/// What a `train` / `distill` job reads and writes.
public struct TrainingJobSettings: Sendable {
    /// `train` or `distill` (named in the log and the graph name).
    public var command: String
    /// Student: a checkpoint, a spec such as `dense:64,32`, or a JSON spec file.
    public var student: String
    /// HDF5 training data, and the ONNX file written.
    public var data: String, out: String
    /// Input dataset (teacher, and student unless `studentXKey`), the student's own input dataset.
    public var xKey: String, studentXKey: String?
    /// Label dataset, or nil for unlabeled data (distillation only).
    public var yKey: String?
    /// Hold out the last fraction for validation, or read a separate validation file.
    public var validationSplit: Double?, validation: String?
    /// Seed of initialisation, shuffling and dropout.
    public var seed: UInt64
    /// Samples per optimizer step (for epoch-based schedules).
    public var batchSize: Int
    /// JSON training log path.
    public var log: String?
    /// The teacher of a distillation.
    public var teacher: TeacherSettings?
    /// Mixup (`Mixup`): blend each batch's rows in pairs; a teacher labels the blended rows.
    public var mixup = false

    /// Settings for a job on `data` writing `out`.
    public init(
        command: String, student: String, data: String, out: String, xKey: String = "x", studentXKey: String? = nil,
        yKey: String? = "y", validationSplit: Double? = nil, validation: String? = nil, seed: UInt64 = 0, batchSize: Int = 32,
        log: String? = nil, teacher: TeacherSettings? = nil
    ) {
        self.command = command
        self.student = student
        self.data = data
        self.out = out
        self.xKey = xKey
        self.studentXKey = studentXKey
        self.yKey = yKey
        self.validationSplit = validationSplit
        self.validation = validation
        self.seed = seed
        self.batchSize = batchSize
        self.log = log
        self.teacher = teacher
    }
}

/// What a finished job reports.
public struct TrainingJobResult: Sendable {
    /// The log written to `log` (and, compact, into the model's metadata).
    public var summary: TrainingSummary
    /// Bytes of the ONNX file written.
    public var bytes: Int
    /// Trainable parameters of the student.
    public var parameterCount: Int
}

/// One `train` / `distill` job: loads and checks the data, teacher and student, trains, writes
/// the ONNX student and the JSON log. Every bad input is a `ModelPressError` (exit 2).
public struct TrainingJob {
    /// What to read and write.
    public let settings: TrainingJobSettings
    /// The recipe for a given number of steps per epoch (epoch-based schedules need it).
    public let recipe: (Int) throws -> TrainingConfiguration

    /// A job with `settings`, trained by `recipe`.
    public init(_ settings: TrainingJobSettings, recipe: @escaping (Int) throws -> TrainingConfiguration) {
        self.settings = settings
        self.recipe = recipe
    }

    /// Runs the job; `say` receives progress lines, `onBatch(epoch, done, total)` each step.
    public func run(say: (String) -> Void = { _ in }, onBatch: (Int, Int, Int) -> Void = { _, _, _ in }) throws -> TrainingJobResult {
        let options = settings, teacher = settings.teacher, command = settings.command
        let started = Date()
        let wantsLabels = options.yKey != nil
        if teacher == nil && !wantsLabels {
            throw ModelPressError.invalidArgument("train needs labels: --y-key none is only for distill (pure soft-label distillation).")
        }
        // Teacher.
        var teacherGraph: Graph?
        var teacherClasses: Int?
        if let teacher {
            let g = try ModelLoader.load(teacher.path)
            guard g.inputs.count == 1, g.outputs.count == 1, g.outputs[0].shape.count == 2 else {
                throw ModelPressError.invalidModel(
                    file: teacher.path, location: "graph", message: "has \(g.inputs.count) inputs and outputs \(g.outputs.map(\.shape))",
                    hint: "the teacher must be a single-input classifier with N×classes output")
            }
            teacherGraph = g
            teacherClasses = g.outputs[0].shape[1]
        }
        // Student.
        let spec = try StudentSpec.parse(options.student)
        let architecture = spec == nil ? try StudentArchitecture.load(ifSpec: options.student) : nil
        var studentCheckpoint: TrainableModel?
        if spec == nil && architecture == nil {
            studentCheckpoint = try TrainableModel(graph: try ModelLoader.load(options.student), source: options.student)
        }
        // Classes: teacher, else the checkpoint, else the labels.
        let trainData = try DatasetFile(path: options.data, xKey: options.xKey, yKey: options.yKey, requireLabels: teacher == nil)
        var classes = teacherClasses ?? studentCheckpoint?.classes
        if classes == nil {
            let labels = try trainData.labels(0..<trainData.count, classes: Int(Int32.max))
            classes = (labels.max() ?? 0) + 1
        }
        guard let classes, classes >= 2 else { throw ModelPressError.invalidArgument("\(options.data): the labels name fewer than 2 classes; nothing to classify") }
        if let s = studentCheckpoint, let t = teacherClasses, s.classes != t {
            throw ModelPressError.invalidArgument(
                "the teacher \(teacher?.path ?? "") has \(t) classes but the student \(options.student) has \(s.classes).\nHINT: distill into a student with a \(t)-way output (e.g. --student dense:64,32).")
        }
        let studentData = try options.studentXKey.map { try DatasetFile(path: options.data, xKey: $0, yKey: nil) } ?? trainData
        guard studentData.count == trainData.count else {
            throw ModelPressError.invalidData(file: options.data, path: studentData.x.name, message: "has \(studentData.count) samples but '\(trainData.x.name)' has \(trainData.count)")
        }
        var model: TrainableModel
        if let studentCheckpoint {
            model = studentCheckpoint
        } else if let spec {
            model = try spec.build(sampleShape: studentData.sampleShape, classes: classes, seed: options.seed)
        } else if let architecture {
            model = try architecture.build(sampleShape: studentData.sampleShape, classes: classes, seed: options.seed)
        } else {
            throw ModelPressError.internalError("no student")
        }
        // Feature distillation.
        var features: FeatureDistillation?
        if let teacherGraph, let match = teacher?.match {
            let parsed = try FeatureDistillation.parse(match, teacher: teacherGraph, student: model.graph)
            features = try FeatureDistillation(
                matches: parsed.matches, studentChannels: parsed.studentChannels, teacherChannels: parsed.teacherChannels,
                loss: teacher?.featureLoss ?? .l2, weight: teacher?.featureWeight ?? 1, seed: options.seed)
            for (m, (s, t)) in zip(parsed.matches, zip(parsed.studentChannels, parsed.teacherChannels)) {
                say("feature distillation: teacher '\(m.teacher)' ↔ student '\(m.student)'" + (s == t ? "" : " (learned projection \(s) → \(t))"))
            }
        }
        // Data.
        let dataSHA = try FileDigest.sha256(ofFileAt: options.data)
        var logitSource: TeacherLogits.Source?
        func load(_ path: String, sha: String) throws -> TrainingSet {
            let xFile = path == options.data ? trainData : try DatasetFile(path: path, xKey: options.xKey, yKey: options.yKey, requireLabels: teacher == nil)
            let sFile = try options.studentXKey.map { try DatasetFile(path: path, xKey: $0, yKey: nil) } ?? xFile
            let studentShape = try feedShape(sFile, model.graph.inputs[0].shape, what: "student \(options.student)")
            let inputs = try sFile.inputs(0..<sFile.count, as: studentShape)
            let labels = xFile.y == nil ? nil : try xFile.labels(0..<xFile.count, classes: classes)
            var logits: Tensor?
            var teacherFeatures: [Tensor] = []
            var blendedTeacherInputs: Tensor?
            if let teacherGraph, let teacher {
                let teacherShape = try feedShape(xFile, teacherGraph.inputs[0].shape, what: "teacher \(teacher.path)")
                let teacherInputs = try xFile.inputs(0..<xFile.count, as: teacherShape)
                let started = Date()
                let result = try TeacherLogits.cached(
                    teacher: teacherGraph, teacherSHA256: teacherGraph.metadata["source_sha256"] ?? "", dataSHA256: sha,
                    key: options.xKey, inputs: teacherInputs, directory: teacher.cache, file: teacher.path)
                logits = result.logits
                logitSource = result.source
                say(
                    String(
                        format: "teacher logits for %@: %d samples, %@ (%.2fs)", path, xFile.count,
                        result.hit ? "from the cache" : "computed once", Date().timeIntervalSince(started)))
                if options.mixup {
                    if path == options.data { blendedTeacherInputs = teacherInputs }  // blended per training batch
                } else if let features {
                    teacherFeatures = try FeatureDistillation.teacherFeatures(teacherGraph, values: features.matches.map(\.teacher), inputs: teacherInputs)
                }
            }
            if labels == nil && logits == nil { throw ModelPressError.invalidData(file: path, path: options.yKey ?? "none", message: "has no labels and there is no teacher") }
            var set = try TrainingSet(inputs: inputs, labels: labels, teacherLogits: logits)
            set.teacherFeatures = teacherFeatures
            set.teacherInputs = blendedTeacherInputs
            return set
        }
        var train = try load(options.data, sha: dataSHA)
        var validation: TrainingSet?
        if let fraction = options.validationSplit {
            (train, validation) = try train.split(validationFraction: fraction)
        } else if let path = options.validation {
            validation = try load(path, sha: try FileDigest.sha256(ofFileAt: path))
        }
        switch logitSource {
        case .strippedSoftmax?: say("teacher: its final softmax was stripped; its input is used as logits")
        case .logProbabilities?: say("teacher: outputs are probabilities; log-probabilities are used as logits (same softmax)")
        default: break
        }
        var configuration = try recipe((train.count + options.batchSize - 1) / options.batchSize)
        if let teacher {
            configuration.temperature = teacher.temperature
            configuration.alpha = teacher.alpha
        }
        configuration.mixup = options.mixup
        var teacherOnBatch: Mixup.TeacherOnBatch?
        if options.mixup, let teacherGraph, let teacher {
            let function = try TeacherFunction(teacher: teacherGraph, file: teacher.path)
            let source = logitSource ?? .output, matched = features?.matches.map(\.teacher) ?? []
            let featureExecutor = Executor(graph: teacherGraph)
            teacherOnBatch = { inputs in
                (try function.logits(inputs, source: source), matched.isEmpty ? [] : try FeatureDistillation.teacherFeatures(featureExecutor, values: matched, inputs: inputs))
            }
            say("mixup: every batch blended in pairs; the teacher labels the blended rows")
        } else if options.mixup {
            say("mixup: every batch blended in pairs, with blended labels")
        }
        if train.labels == nil { say("no labels: pure soft-label distillation (loss = T²·KL)") }
        say("\(command): student \(options.student) (\(model.parameterCount) parameters), \(train.count) training samples" + (validation.map { ", \($0.count) validation" } ?? "") + ", \(classes) classes")
        // Train.
        let result = try Trainer(configuration).fit(
            model, train: train, validation: validation, features: features, teacher: teacherOnBatch, onBatch: onBatch,
            onEpoch: { record in say(EpochLine.format(record, epochs: configuration.epochs)) })
        model = result.model
        if result.stoppedEarly { say("early stopping after epoch \(result.history.count); kept the weights of epoch \(result.bestEpoch)") }
        // Write.
        let final = try validation.map { try Trainer(configuration).evaluate(model, on: $0) }
        var exportOptions = ONNXExportOptions()
        exportOptions.sourceSHA256 = teacherGraph?.metadata["source_sha256"] ?? studentCheckpoint?.graph.metadata["source_sha256"]
        let summary = TrainingSummary(
            command: command, teacher: teacher?.path, student: options.student, data: options.data, dataSHA256: dataSHA,
            teacherLogits: logitSource?.rawValue, configuration: configuration, trainSamples: train.count,
            validationSamples: validation?.count, epochs: result.history, bestEpoch: result.bestEpoch,
            stoppedEarly: result.stoppedEarly, validationLoss: final?.loss, validationAccuracy: final?.accuracy ?? nil,
            seconds: 0, output: options.out)
        exportOptions.compressionSummary = try summary.compactJSON()
        var graph = try model.exportGraph()
        graph.name = command == "distill" ? "distilled_student" : "trained_student"
        let written = try ONNXExporter.write(graph, to: options.out, options: exportOptions)
        var logged = summary
        logged.seconds = Date().timeIntervalSince(started)
        if let log = options.log { try AtomicFile.write(try logged.prettyJSON(), to: log) }
        return TrainingJobResult(summary: logged, bytes: written.bytes, parameterCount: model.parameterCount)
    }

    /// The per-sample shape `model` needs from `file`, or an exit-2 error naming both shapes.
    private func feedShape(_ file: DatasetFile, _ modelInput: [Int], what: String) throws -> [Int] {
        do { return try file.feedShape(for: modelInput) } catch {
            throw ModelPressError.invalidData(
                file: file.path, path: file.x.name,
                message:
                    "has samples of shape \(file.sampleShape) (\(Checked.product(file.sampleShape) ?? 0) values); the \(what) takes \(Array(modelInput.dropFirst())) — the sizes cannot be matched.\nHINT: pick the matching dataset with --x-key / --student-x-key."
            )
        }
    }
}
