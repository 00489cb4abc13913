import TensorCore

/// An HDF5 dataset file: inputs `x` (N×…, channels-last images as Keras uses) and optional
/// integer labels `y` (N or N×1); dataset names are configurable.
public final class DatasetFile: LabelledBatchSource {
    /// The file's path.
    public let path: String
    /// The input dataset.
    public let x: HDF5Dataset
    /// The label dataset, if the file has one under the requested key.
    public let y: HDF5Dataset?
    private let file: HDF5File

    /// Opens `path`, requiring dataset `xKey` and, if `requireLabels`, `yKey`.
    public init(path: String, xKey: String = "x", yKey: String? = "y", requireLabels: Bool = false) throws {
        file = try HDF5File(readingFrom: path, containment: .probe)
        self.path = path
        x = try file.root.dataset(xKey)
        guard x.isNumeric else { throw ModelPressError.invalidData(file: path, path: x.name, message: "holds non-numeric data") }
        guard x.shape.count >= 2 else {
            throw ModelPressError.invalidData(file: path, path: x.name, message: "has shape \(x.shape); expected samples × features (N×…)")
        }
        guard x.shape[0] > 0 else { throw ModelPressError.invalidData(file: path, path: x.name, message: "is empty (0 samples)") }
        if let yKey, requireLabels || file.root.kind(of: yKey) == .dataset {
            let labels = try file.root.dataset(yKey)
            guard labels.isNumeric, labels.shape.first == x.shape[0], labels.count == x.shape[0] else {
                throw ModelPressError.invalidData(
                    file: path, path: labels.name,
                    message: "has shape \(labels.shape); expected \(x.shape[0]) integer labels (one per sample of '\(x.name)')")
            }
            y = labels
        } else {
            y = nil
        }
    }

    /// Number of samples.
    public var count: Int { x.shape[0] }

    /// The input dataset's HDF5 path.
    public var inputName: String { x.name }

    /// Whether the file has a label dataset under the requested key.
    public var hasLabels: Bool { y != nil }

    /// Per-sample input shape.
    public var sampleShape: [Int] { Array(x.shape.dropFirst()) }

    /// Inputs of `rows` as a tensor of shape `[rows.count] + sampleShape` (or `shape` when given,
    /// a row-major reshape of equal size). Non-finite values are refused.
    public func inputs(_ rows: Range<Int>, as shape: [Int]? = nil) throws -> Tensor {
        let values = try x.readFloats(rows: rows)
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            let per = max(1, values.count / max(1, rows.count))
            throw ModelPressError.invalidData(file: path, path: x.name, message: "sample \(rows.lowerBound + bad / per) holds a non-finite value (NaN or ±inf)")
        }
        return try Tensor(shape: [rows.count] + (shape ?? sampleShape), storage: values)
    }

    /// Labels of `rows`; fails when there are none or one is not a whole number in `0..<classes`.
    public func labels(_ rows: Range<Int>, classes: Int) throws -> [Int] {
        guard let y else { throw ModelPressError.missingEntry(file: path, path: "y", available: []) }
        let raw = y.isInteger ? try y.readInt64(rows: rows).map(Double.init) : try y.readFloats(rows: rows).map(Double.init)
        return try raw.enumerated().map { i, v in
            guard v.rounded() == v, v >= 0, v < Double(classes) else {
                throw ModelPressError.invalidData(
                    file: path, path: y.name,
                    message: "label \(v) of sample \(rows.lowerBound + i) is not a class index in 0..<\(classes)")
            }
            return Int(v)
        }
    }

    /// The per-sample shape the model input needs, if the data can feed it: equal shapes, or
    /// equal sizes (read row-major, e.g. 64-vectors for an 8×8×1 input). `model` names the
    /// model's file in the message (its graph's `source_path`).
    public func feedShape(for modelInput: [Int], model: String?) throws -> [Int] {
        let wanted = Array(modelInput.dropFirst())
        if wanted == sampleShape { return wanted }
        if Checked.product(wanted) == Checked.product(sampleShape) { return wanted }
        throw ModelPressError.invalidData(
            file: path, path: x.name,
            message: "has samples of shape \(sampleShape); the model\(model.map { " " + $0 } ?? "") expects \(wanted).\n"
                + "HINT: pick the matching dataset with --x-key, or check that the model is the one meant.")
    }
}
