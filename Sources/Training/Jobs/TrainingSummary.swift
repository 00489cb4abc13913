import Foundation

/// The JSON training log (`--log`) and the `modelpress.compression` metadata of the written model.
public struct TrainingSummary: Encodable, Sendable {
    /// Schema version of the log.
    public var version = 1
    /// The log's `command` field.
    public var command: String
    /// The log's `teacher` field.
    public var teacher: String?
    /// The log's `student` field.
    public var student: String
    /// The log's `data` field.
    public var data: String
    /// The log's `dataSHA256` field.
    public var dataSHA256: String
    /// How teacher logits were obtained (`stripped-softmax`, `output`, `log-probabilities`).
    public var teacherLogits: String?
    /// The log's `configuration` field.
    public var configuration: TrainingConfiguration
    /// The log's `trainSamples` field.
    public var trainSamples: Int
    /// The log's `validationSamples` field.
    public var validationSamples: Int?
    /// The log's `epochs` field.
    public var epochs: [EpochRecord]
    /// The log's `bestEpoch` field.
    public var bestEpoch: Int
    /// The log's `stoppedEarly` field.
    public var stoppedEarly: Bool
    /// The log's `validationLoss` field.
    public var validationLoss: Double?
    /// The log's `validationAccuracy` field.
    public var validationAccuracy: Double?
    /// The log's `seconds` field.
    public var seconds: Double
    /// The log's `output` field.
    public var output: String?

    enum CodingKeys: String, CodingKey {
        case version, command, teacher, student, data, configuration, epochs, seconds, output
        case dataSHA256 = "data_sha256", teacherLogits = "teacher_logits", trainSamples = "train_samples"
        case validationSamples = "validation_samples", bestEpoch = "best_epoch", stoppedEarly = "stopped_early"
        case validationLoss = "val_loss", validationAccuracy = "val_accuracy"
    }

    /// Pretty, key-sorted JSON for the log file.
    public func prettyJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// One-line JSON for model metadata, without per-epoch records, timings or the output path
    /// (so equal runs write equal bytes wherever they write).
    public func compactJSON() throws -> String {
        var copy = self
        copy.epochs = []
        copy.seconds = 0
        copy.output = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(copy), as: UTF8.self)
    }
}
