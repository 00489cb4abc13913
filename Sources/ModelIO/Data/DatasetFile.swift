import Foundation
import TensorCore

/// An HDF5 dataset file: inputs `x` (N×…, channels-last images as Keras uses) and optional
/// integer labels `y` (N or N×1); dataset names are configurable. A model with several inputs
/// reads one dataset each (`xKey` "token_ids,padding_mask"): matched to the model's inputs by
/// name when the names agree, else in order.
public final class DatasetFile: LabelledBatchSource {
    /// The file's path.
    public let path: String
    /// The (first) input dataset.
    public let x: HDF5Dataset
    /// Every input dataset named by `xKey`, in order (`x` first).
    public let arrays: [HDF5Dataset]
    /// The label dataset, if the file has one under the requested key.
    public let y: HDF5Dataset?
    private let file: HDF5File

    /// Opens `path`, requiring dataset `xKey` (or each of its comma-separated names) and, if
    /// `requireLabels`, `yKey`.
    public init(path: String, xKey: String = "x", yKey: String? = "y", requireLabels: Bool = false) throws {
        file = try HDF5File(readingFrom: path, containment: .probe)
        self.path = path
        var arrays: [HDF5Dataset] = []
        for key in xKey.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !key.isEmpty {
            let d = try file.root.dataset(key)
            guard d.isNumeric else { throw ModelPressError.invalidData(file: path, path: d.name, message: "holds non-numeric data") }
            guard d.shape.count >= 2 else {
                throw ModelPressError.invalidData(file: path, path: d.name, message: "has shape \(d.shape); expected samples × features (N×…)")
            }
            guard d.shape[0] > 0 else { throw ModelPressError.invalidData(file: path, path: d.name, message: "is empty (0 samples)") }
            if let first = arrays.first, first.shape[0] != d.shape[0] {
                throw ModelPressError.invalidData(file: path, path: d.name, message: "has \(d.shape[0]) samples, and '\(first.name)' has \(first.shape[0])")
            }
            arrays.append(d)
        }
        guard let x = arrays.first else { throw ModelPressError.invalidArgument("--x-key names no dataset ('\(xKey)')") }
        self.x = x
        self.arrays = arrays
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

    /// The per-sample shape of each input dataset, by name (what fixes a model's input axes of
    /// unknown size: `ModelLoader.load(_:samples:)`).
    public var sampleShapes: [(name: String, shape: [Int])] { arrays.map { (Self.baseName($0.name), Array($0.shape.dropFirst())) } }

    /// Inputs of `rows` as a tensor of shape `[rows.count] + sampleShape` (or `shape` when given,
    /// a row-major reshape of equal size). Non-finite values are refused.
    public func inputs(_ rows: Range<Int>, as shape: [Int]? = nil) throws -> Tensor { try read(x, rows, as: shape) }

    /// The rows of each input dataset for the model's `inputs` (by name when the dataset names
    /// are the input names, else in order), each in the shape its input needs.
    public func feeds(_ rows: Range<Int>, for inputs: [ValueInfo], model: String?) throws -> [String: Tensor] {
        guard inputs.count == arrays.count else {
            throw ModelPressError.invalidArgument(
                "the model\(model.map { " " + $0 } ?? "") has \(inputs.count) input(s) (\(inputs.map(\.name).joined(separator: ", "))) and --x-key names \(arrays.count) dataset(s) (\(arrays.map(\.name).joined(separator: ", "))) in '\(path)'; name one dataset per input, in the model's order"
            )
        }
        let byName = Dictionary(arrays.map { (Self.baseName($0.name), $0) }, uniquingKeysWith: { a, _ in a })
        let matched = inputs.allSatisfy { byName[$0.name] != nil } ? inputs.map { byName[$0.name]! } : arrays
        var feeds: [String: Tensor] = [:]
        for (input, array) in zip(inputs, matched) {
            feeds[input.name] = try read(array, rows, as: try feedShape(of: array, for: input.shape, model: model))
        }
        return feeds
    }

    /// `/group/x` → `x`.
    private static func baseName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }

    /// Rows of `array` as a tensor of `[rows.count] + (shape ?? its sample shape)`; non-finite values refused.
    private func read(_ array: HDF5Dataset, _ rows: Range<Int>, as shape: [Int]?) throws -> Tensor {
        let values = try array.readFloats(rows: rows)
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            let per = max(1, values.count / max(1, rows.count))
            throw ModelPressError.invalidData(file: path, path: array.name, message: "sample \(rows.lowerBound + bad / per) holds a non-finite value (NaN or ±inf)")
        }
        return try Tensor(shape: [rows.count] + (shape ?? Array(array.shape.dropFirst())), storage: values)
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
    public func feedShape(for modelInput: [Int], model: String?) throws -> [Int] { try feedShape(of: x, for: modelInput, model: model) }

    private func feedShape(of array: HDF5Dataset, for modelInput: [Int], model: String?) throws -> [Int] {
        let wanted = Array(modelInput.dropFirst()), have = Array(array.shape.dropFirst())
        if wanted == have { return wanted }
        if Checked.product(wanted) == Checked.product(have) { return wanted }
        throw ModelPressError.invalidData(
            file: path, path: array.name,
            message: "has samples of shape \(have); the model\(model.map { " " + $0 } ?? "") expects \(wanted).\n"
                + "HINT: pick the matching dataset with --x-key, or check that the model is the one meant.")
    }
}
