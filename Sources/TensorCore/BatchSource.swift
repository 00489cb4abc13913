/// Samples read in row ranges (an HDF5 dataset file, or any other store): what calibration,
/// evaluation and error measurement stream through a model, without knowing the file format.
public protocol BatchSource: AnyObject {
    /// Where the samples come from (a file path), for error messages.
    var path: String { get }
    /// The name of the input array inside `path` (e.g. the HDF5 dataset `/x`), for error messages.
    var inputName: String { get }
    /// Number of samples.
    var count: Int { get }
    /// Per-sample input shape.
    var sampleShape: [Int] { get }
    /// Inputs of `rows` as a tensor of shape `[rows.count] + (shape ?? sampleShape)`.
    func inputs(_ rows: Range<Int>, as shape: [Int]?) throws -> Tensor
    /// The per-sample shape the model input `modelInput` (batch first) needs from these
    /// samples; `model` (its file) is named in the error when they cannot feed it.
    func feedShape(for modelInput: [Int], model: String?) throws -> [Int]
    /// The samples of `rows` for every one of a model's `inputs`, by input name, each in the
    /// shape it needs (a source of one array feeds a single-input model).
    func feeds(_ rows: Range<Int>, for inputs: [ValueInfo], model: String?) throws -> [String: Tensor]
}

/// A batch source with an integer class label per sample.
public protocol LabelledBatchSource: BatchSource {
    /// Whether the source has labels at all.
    var hasLabels: Bool { get }
    /// Labels of `rows`; fails when there are none or one is not a class index in `0..<classes`.
    func labels(_ rows: Range<Int>, classes: Int) throws -> [Int]
}

extension BatchSource {
    /// Inputs of `rows` in the source's own per-sample shape.
    public func inputs(_ rows: Range<Int>) throws -> Tensor { try inputs(rows, as: nil) }
    /// `feedShape(for:model:)` with no model file to name.
    public func feedShape(for modelInput: [Int]) throws -> [Int] { try feedShape(for: modelInput, model: nil) }

    /// One array feeds a single-input model.
    public func feeds(_ rows: Range<Int>, for inputs: [ValueInfo], model: String?) throws -> [String: Tensor] {
        guard inputs.count == 1, let input = inputs.first else {
            throw ModelPressError.invalidArgument(
                "the model\(model.map { " " + $0 } ?? "") has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))) and '\(path)' gives one array ('\(inputName)'); name one dataset per input: --x-key \(inputs.map(\.name).joined(separator: ","))"
            )
        }
        return [input.name: try self.inputs(rows, as: try feedShape(for: input.shape, model: model))]
    }
}
