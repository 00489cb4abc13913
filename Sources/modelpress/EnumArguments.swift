import ArgumentParser
import ONNXIO
import Pruning
import Quantization
import TensorCore
import Training

// Enum options parse straight into the library's types: an unknown value is refused by the
// parser with the list of valid ones, and nothing re-parses a string later.
extension CalibrationMethod: ExpressibleByArgument {}
extension WeightGranularity: ExpressibleByArgument {}
extension QuantizationScheme: ExpressibleByArgument {}
extension QuantizedElementType: ExpressibleByArgument {}
extension QuantizationPrecision: ExpressibleByArgument {}
extension WeightOnlyOptions.Scheme: ExpressibleByArgument {}
extension WeightOnlyOptions.ScaleSearch: ExpressibleByArgument {}
extension WeightOnlyOptions.ScaleType: ExpressibleByArgument {}
extension RequantizationRounding: ExpressibleByArgument {}
extension ONNXExportOptions.QuantizedForm: ExpressibleByArgument {}
extension ONNXExportOptions.InputLayout: ExpressibleByArgument {}
extension PruningSchedule: ExpressibleByArgument {}
extension ChannelCriterion: ExpressibleByArgument {}
extension PruningScope: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension FeatureLoss: ExpressibleByArgument {}

extension BatchNormMode: ExpressibleByArgument {
    /// `batch` (batch statistics) or `frozen`, as written on the command line.
    public init?(argument: String) {
        switch argument {
        case "batch": self = .batchStatistics
        case "frozen": self = .frozen
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["batch", "frozen"] }

    public var defaultValueDescription: String { self == .frozen ? "frozen" : "batch" }
}

extension PruningGranularity: ExpressibleByArgument {
    /// `unstructured`, `2:4`, `block:RxC`, `channel` or `heads`.
    public init?(argument: String) { self.init(name: argument) }

    public static var allValueStrings: [String] { names }

    public var defaultValueDescription: String { name }
}
