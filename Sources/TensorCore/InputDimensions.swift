import Foundation

/// Sizes for the open axes of a model's inputs (besides the batch), which ModelPress fixes at
/// load time: by the axis's name (`--dim sequence=128`, as onnxruntime's free-dimension
/// overrides) or as `<input>.<axis>` (`--dim tokens.1=128`), else from the data the model is
/// run on (the sample shape of the dataset fed to that input). A model loaded this way runs,
/// and exports, at those sizes.
public struct InputDimensions: Sendable {
    /// Sizes by symbolic axis name.
    public var named: [String: Int]
    /// Sample shapes (no batch axis) of the datasets the model will read, by dataset name, in
    /// the order given (matched to inputs by name, else by position).
    public var samples: [(name: String, shape: [Int])]

    /// No sizes given.
    public static let none = InputDimensions(named: [:], samples: [])

    /// Sizes by name and sample shapes from data.
    public init(named: [String: Int], samples: [(name: String, shape: [Int])]) {
        self.named = named
        self.samples = samples
    }

    /// The environment variable that carries `--dim` to the loaders (and to the pipeline stages
    /// and batch entries a command starts): `NAME=SIZE,NAME=SIZE`.
    public static let environmentKey = "MODELPRESS_DIMS"

    /// Parses `NAME=SIZE` pairs (comma-separated too; sizes ≥ 1), or the first malformed one.
    public static func parse(_ pairs: [String]) -> Result<[String: Int], DimensionSyntaxError> {
        var named: [String: Int] = [:]
        for pair in pairs.flatMap({ $0.split(separator: ",") }) {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let size = Int(parts[1]), size >= 1 else { return .failure(DimensionSyntaxError(text: String(pair))) }
            named[parts[0]] = size
        }
        return .success(named)
    }

    /// The sizes `MODELPRESS_DIMS` names (empty when unset or malformed: the CLI validated it).
    public static var fromEnvironment: [String: Int] {
        guard let text = ProcessInfo.processInfo.environment[environmentKey], !text.isEmpty else { return [:] }
        return (try? parse([text]).get()) ?? [:]
    }

    /// The size of axis `axis` (≥ 1) of input `input` (position `position` among the model's
    /// inputs, of `inputCount`), whose symbolic name is `symbol` (may be empty): by name, else
    /// from the dataset of the same name, else from the dataset at the same position when the
    /// datasets and inputs are as many. `named` also answers to `<input>.<axis>`. Only inputs of
    /// rank ≤ 3 (ids, sequences) read sizes from data: an image's layout may differ from its data's.
    public func size(symbol: String, input: String, position: Int, inputCount: Int, axis: Int, rank: Int) -> Int? {
        if !symbol.isEmpty, let size = named[symbol] { return size }
        if let size = named["\(input).\(axis)"] { return size }
        guard rank <= 3 else { return nil }
        let sample = samples.first { $0.name == input } ?? (samples.count == inputCount && position < samples.count ? samples[position] : nil)
        guard let shape = sample?.shape, axis - 1 < shape.count else { return nil }
        return shape[axis - 1]
    }
}

/// A `--dim` value that is not `NAME=SIZE` with a whole size ≥ 1.
public struct DimensionSyntaxError: Error, Hashable, Sendable {
    /// The malformed text.
    public let text: String
}
