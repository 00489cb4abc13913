import ArgumentParser
import Foundation
import ModelIO
import ModelLoading
import TensorCore

/// MODEL and how to read it.
struct ModelOptions: ParsableArguments {
    @Argument(help: "Model file: Keras .h5 / .keras / .weights.h5, or .onnx (recognised by content).")
    var model: String

    @Option(help: "Architecture JSON (model.to_json()) for a weights-only MODEL; default: <stem>.json beside it.")
    var architecture: String?

    @OptionGroup var policy: LoadPolicyOptions

    /// Loads the model into the graph IR; input axes of unknown size take `--dim`, else the
    /// sizes of the datasets in `data` (when the command reads data).
    func load(feeding data: DatasetOptions) throws -> Graph { try load(samples: try data.sampleShapes()) }

    /// Loads the model, input axes of unknown size fixed by `--dim`, else by `samples` (the
    /// per-sample shapes of the datasets it will read); refuses up front when `work` on it
    /// would not fit in memory (`MemoryBudget`).
    func load(samples: [(name: String, shape: [Int])] = [], work: MemoryWork = .evaluate) throws -> Graph {
        policy.apply()
        let graph = try ModelLoader.load(model, architecture: architecture, samples: samples)
        try MemoryBudget.check(graph, work: work, file: model)
        return graph
    }
}

/// How strictly every model a command reads is checked (in this process and in the stages
/// and entries it starts, which inherit the environment variables these set).
struct LoadPolicyOptions: ParsableArguments {
    @Flag(help: "Refuse (exit 2) a model whose weights hold NaN or Inf, instead of warning.")
    var strict = false

    @Option(help: "Largest uncompressed entry of a .keras archive, in MB (default: 100× the archive, at most 4096).")
    var maxUncompressedMb: Int?

    @Option(
        name: .customLong("dim"),
        help: """
            Size of an input axis the model leaves open, NAME=SIZE: its symbolic name (ONNX, e.g. sequence=128) \
            or <input>.<axis> (e.g. tokens.1=128); repeatable. Without it, commands with --data read the sizes \
            of sequences and ids from the data.
            """)
    var dims: [String] = []

    func validate() throws {
        if let mb = maxUncompressedMb, mb < 1 { throw ValidationError("--max-uncompressed-mb must be ≥ 1 (got \(mb)).") }
        if case .failure(let error) = InputDimensions.parse(dims) { throw ValidationError("--dim '\(error.text)' is not NAME=SIZE with a size ≥ 1.") }
    }

    /// Sets `MODELPRESS_STRICT`, `MODELPRESS_MAX_UNCOMPRESSED_MB` and `MODELPRESS_DIMS`, which the loaders read.
    func apply() {
        if strict { setenv("MODELPRESS_STRICT", "1", 1) }
        if let mb = maxUncompressedMb { setenv("MODELPRESS_MAX_UNCOMPRESSED_MB", String(mb), 1) }
        if !dims.isEmpty { setenv(InputDimensions.environmentKey, dims.joined(separator: ","), 1) }
    }
}

/// An HDF5 dataset and its dataset names.
struct DatasetOptions: ParsableArguments {
    @Option(help: "HDF5 dataset file.")
    var data: String

    @Option(help: "Name of the input dataset (N×…, channels-last images); for a model with several inputs, one per input, comma-separated (matched by name, else in order).")
    var xKey = "x"

    @Option(help: "Name of the integer label dataset.")
    var yKey = "y"

    @Option(help: "Samples per batch.")
    var batchSize = 64

    /// The per-sample shape of each input dataset, by name.
    func sampleShapes() throws -> [(name: String, shape: [Int])] { try open(requireLabels: false).sampleShapes }

    /// Opens the dataset file.
    func open(requireLabels: Bool) throws -> DatasetFile {
        try DatasetFile(path: data, xKey: xKey, yKey: yKey, requireLabels: requireLabels)
    }
}

/// Progress and verbosity.
struct OutputOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing but results and errors.")
    var quiet = false
}

/// Runs a library check from a command's `validate()`, reporting its failure as a usage
/// error (exit 2, with the command's usage) like ArgumentParser's own.
func asUsageError(_ check: () throws -> Void) throws {
    do { try check() } catch let error as ModelPressError { throw ValidationError("\(error)") }
}
