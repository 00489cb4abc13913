import Foundation
import TensorCore
import Training

extension TrainingOptions {
    /// Runs `command` (`train` or `distill`, with `teacher`) as a library `TrainingJob` and
    /// prints its progress (stderr) and result.
    func runJob(command: String, teacher: TeacherSettings?) throws {
        policy.apply()
        var settings = TrainingJobSettings(
            command: command, student: student, data: data, out: out, xKey: xKey, studentXKey: studentXKey,
            yKey: yKey == "none" ? nil : yKey, validationSplit: validationSplit, validation: validation,
            seed: seed, batchSize: batchSize, log: log, teacher: teacher)
        settings.mixup = mixup
        let interactive = !quiet && isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["CI"] == nil
        var bar: ProgressReporter?
        var barEpoch = 0
        let result = try TrainingJob(settings, recipe: configuration(stepsPerEpoch:)).run(
            say: say,
            onBatch: { epoch, done, total in
                guard interactive else { return }
                if bar == nil || barEpoch != epoch { (bar, barEpoch) = (ProgressReporter("epoch \(epoch)/\(epochs)", quiet: false), epoch) }
                bar?.update(done, total)
            })
        guard !quiet else { return }
        let s = result.summary
        if let loss = s.validationLoss {
            print(String(format: "best epoch %d: val_loss %.4f", s.bestEpoch, loss) + (s.validationAccuracy.map { String(format: ", val_accuracy %.4f", $0) } ?? ""))
        }
        print("wrote \(out): \(result.bytes) bytes, \(result.parameterCount) parameters" + (log.map { "; log \($0)" } ?? ""))
    }

    /// Prints a progress line to stderr unless quiet.
    func say(_ line: String) {
        guard !quiet else { return }
        FileHandle.standardError.writeBestEffort(Data((line + "\n").utf8))
    }
}
