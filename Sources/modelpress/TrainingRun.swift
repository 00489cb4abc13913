import Evaluation
import Foundation
import ModelIO
import ModelLoading
import ONNXIO
import TensorCore
import Training

/// The teacher side of a distillation run (absent for `train`).
struct TeacherSettings {
    var path: String
    var temperature: Float
    var alpha: Float
    var cache: String?
}

/// One `train` / `distill` run: loads and checks the data, teacher and student, trains, writes
/// the ONNX student and the JSON log. Every bad input is a `ModelPressError` (exit 2).
struct TrainingRun {
    let options: TrainingOptions
    let teacher: TeacherSettings?
    let command: String

    /// Prints a line to stderr unless quiet.
    func say(_ line: String) {
        guard !options.quiet else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Loaded training inputs: student-shaped inputs, labels, and the teacher's logits.
    struct Loaded {
        var set: TrainingSet
        var count: Int
    }

    func run() throws {
        let started = Date()
        let wantsLabels = options.yKey != "none"
        if teacher == nil && !wantsLabels {
            throw ModelPressError.invalidArgument("train needs labels: --y-key none is only for distill (pure soft-label distillation).")
        }
        // Teacher.
        var teacherGraph: Graph?
        var teacherClasses: Int?
        if let teacher {
            let g = try ModelLoader.load(teacher.path)
            guard g.inputs.count == 1, g.outputs.count == 1, g.outputs[0].shape.count == 2 else {
                throw ModelPressError.invalidModel(file: teacher.path, location: "graph", message: "has \(g.inputs.count) inputs and outputs \(g.outputs.map(\.shape))",
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
        let trainData = try DatasetFile(path: options.data, xKey: options.xKey, yKey: wantsLabels ? options.yKey : nil, requireLabels: teacher == nil)
        var classes = teacherClasses ?? studentCheckpoint?.classes
        if classes == nil {
            let labels = try trainData.labels(0..<trainData.count, classes: Int(Int32.max))
            classes = (labels.max() ?? 0) + 1
        }
        guard let classes, classes >= 2 else { throw ModelPressError.invalidArgument("\(options.data): the labels name fewer than 2 classes; nothing to classify") }
        if let s = studentCheckpoint, let t = teacherClasses, s.classes != t {
            throw ModelPressError.invalidArgument("the teacher \(teacher?.path ?? "") has \(t) classes but the student \(options.student) has \(s.classes).\nHINT: distill into a student with a \(t)-way output (e.g. --student dense:64,32).")
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
        // Data.
        let dataSHA = try FileDigest.sha256(ofFileAt: options.data)
        var logitSource: TeacherLogits.Source?
        func load(_ path: String, sha: String) throws -> TrainingSet {
            let xFile = path == options.data ? trainData : try DatasetFile(path: path, xKey: options.xKey, yKey: wantsLabels ? options.yKey : nil, requireLabels: teacher == nil)
            let sFile = try options.studentXKey.map { try DatasetFile(path: path, xKey: $0, yKey: nil) } ?? xFile
            let studentShape = try feedShape(sFile, model.graph.inputs[0].shape, what: "student \(options.student)")
            let inputs = try sFile.inputs(0..<sFile.count, as: studentShape)
            let labels = xFile.y == nil ? nil : try xFile.labels(0..<xFile.count, classes: classes)
            var logits: Tensor?
            if let teacherGraph, let teacher {
                let teacherShape = try feedShape(xFile, teacherGraph.inputs[0].shape, what: "teacher \(teacher.path)")
                let started = Date()
                let result = try TeacherLogits.cached(teacher: teacherGraph, teacherSHA256: teacherGraph.metadata["source_sha256"] ?? "", dataSHA256: sha,
                                                      key: options.xKey, inputs: try xFile.inputs(0..<xFile.count, as: teacherShape),
                                                      directory: teacher.cache, file: teacher.path)
                logits = result.logits
                logitSource = result.source
                say(String(format: "teacher logits for %@: %d samples, %@ (%.2fs)", path, xFile.count,
                           result.hit ? "from the cache" : "computed once", Date().timeIntervalSince(started)))
            }
            if labels == nil && logits == nil { throw ModelPressError.invalidData(file: path, path: options.yKey, message: "has no labels and there is no teacher") }
            return try TrainingSet(inputs: inputs, labels: labels, teacherLogits: logits)
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
        var configuration = try options.configuration(stepsPerEpoch: (train.count + options.batchSize - 1) / options.batchSize)
        if let teacher {
            configuration.temperature = teacher.temperature
            configuration.alpha = teacher.alpha
        }
        if train.labels == nil { say("no labels: pure soft-label distillation (loss = T²·KL)") }
        say("\(command): student \(options.student) (\(model.parameterCount) parameters), \(train.count) training samples" +
            (validation.map { ", \($0.count) validation" } ?? "") + ", \(classes) classes")
        // Train.
        let interactive = !options.quiet && isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["CI"] == nil
        var bar: ProgressReporter?
        let result = try Trainer(configuration).fit(model, train: train, validation: validation, onBatch: { epoch, done, total in
            guard interactive else { return }
            if bar == nil { bar = ProgressReporter("epoch \(epoch)/\(configuration.epochs)", quiet: false) }
            bar?.update(done, total)
        }, onEpoch: { record in
            bar = nil
            say(EpochLine.format(record, epochs: configuration.epochs))
        })
        model = result.model
        if result.stoppedEarly { say("early stopping after epoch \(result.history.count); kept the weights of epoch \(result.bestEpoch)") }
        // Write.
        let final = try validation.map { try Trainer(configuration).evaluate(model, on: $0) }
        var exportOptions = ONNXExportOptions()
        exportOptions.sourceSHA256 = teacherGraph?.metadata["source_sha256"] ?? studentCheckpoint?.graph.metadata["source_sha256"]
        let summary = TrainingSummary(command: command, teacher: teacher?.path, student: options.student, data: options.data, dataSHA256: dataSHA,
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
        guard !options.quiet else { return }
        if let final {
            print(String(format: "best epoch %d: val_loss %.4f", result.bestEpoch, final.loss) + (final.accuracy.map { String(format: ", val_accuracy %.4f", $0) } ?? ""))
        }
        print("wrote \(options.out): \(written.data.count) bytes, \(model.parameterCount) parameters" + (options.log.map { "; log \($0)" } ?? ""))
    }

    /// The per-sample shape `model` needs from `file`, or an exit-2 error naming both shapes.
    func feedShape(_ file: DatasetFile, _ modelInput: [Int], what: String) throws -> [Int] {
        do { return try file.feedShape(for: modelInput) } catch {
            throw ModelPressError.invalidData(file: file.path, path: file.x.name,
                                              message: "has samples of shape \(file.sampleShape) (\(Checked.product(file.sampleShape) ?? 0) values); the \(what) takes \(Array(modelInput.dropFirst())) — the sizes cannot be matched.\nHINT: pick the matching dataset with --x-key / --student-x-key.")
        }
    }
}

/// One plain progress line per epoch.
enum EpochLine {
    static func format(_ r: EpochRecord, epochs: Int) -> String {
        var line = String(format: "epoch %d/%d  loss %.4f", r.epoch, epochs, r.loss)
        if let a = r.accuracy { line += String(format: "  acc %.4f", a) }
        if let v = r.validationLoss { line += String(format: "  val_loss %.4f", v) }
        if let a = r.validationAccuracy { line += String(format: "  val_acc %.4f", a) }
        line += String(format: "  %.3fs  %.0f samples/s", r.seconds, r.samplesPerSecond)
        return line
    }
}
