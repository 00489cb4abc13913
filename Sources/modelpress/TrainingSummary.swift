import Foundation
import Training

/// The JSON training log (`--log`) and the `modelpress.compression` metadata of the written model.
struct TrainingSummary: Encodable {
    var version = 1
    var command: String
    var teacher: String?
    var student: String
    var data: String
    var dataSHA256: String
    /// How teacher logits were obtained (`stripped-softmax`, `output`, `log-probabilities`).
    var teacherLogits: String?
    var configuration: TrainingConfiguration
    var trainSamples: Int
    var validationSamples: Int?
    var epochs: [EpochRecord]
    var bestEpoch: Int
    var stoppedEarly: Bool
    var validationLoss: Double?
    var validationAccuracy: Double?
    var seconds: Double
    var output: String?

    enum CodingKeys: String, CodingKey {
        case version, command, teacher, student, data, configuration, epochs, seconds, output
        case dataSHA256 = "data_sha256", teacherLogits = "teacher_logits", trainSamples = "train_samples"
        case validationSamples = "validation_samples", bestEpoch = "best_epoch", stoppedEarly = "stopped_early"
        case validationLoss = "val_loss", validationAccuracy = "val_accuracy"
    }

    /// Pretty, key-sorted JSON for the log file.
    func prettyJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// One-line JSON for model metadata, without per-epoch records, timings or the output path
    /// (so equal runs write equal bytes wherever they write).
    func compactJSON() throws -> String {
        var copy = self
        copy.epochs = []
        copy.seconds = 0
        copy.output = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(copy), as: UTF8.self)
    }
}
