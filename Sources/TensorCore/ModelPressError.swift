/// Every failure ModelPress reports: each case names the file, the HDF5 path or the layer,
/// and user-input cases say what to do. `exitCode` maps a case onto the CLI contract.
public enum ModelPressError: Error, Equatable, Sendable {
    /// A user-supplied file does not exist or cannot be opened for reading.
    case fileNotFound(path: String)
    /// The file is not in any format ModelPress reads (detected by content).
    case unrecognizedFormat(path: String, detail: String)
    /// libhdf5 reported a failure; `stack` is HDF5's own error stack, innermost last.
    case hdf5(file: String, object: String, operation: String, stack: [String])
    /// A dataset, group or attribute the command needs is not in the file.
    case missingEntry(file: String, path: String, available: [String])
    /// The model's configuration or weights are not what ModelPress expects.
    case invalidModel(file: String, location: String, message: String, hint: String)
    /// The model uses a layer class ModelPress does not (or will not) execute.
    case unsupportedLayer(file: String, layer: String, className: String, reason: String)
    /// A weight or tensor has a different shape than the layer configuration implies.
    case shapeMismatch(file: String, location: String, what: String, expected: [Int], actual: [Int])
    /// A dataset's contents cannot be used (wrong rank, empty, non-finite values, ...).
    case invalidData(file: String, path: String, message: String)
    /// A C library (libhdf5) crashed, hung or ran out of its memory limit on the file, in a
    /// contained child process; `detail` says how (signal, time limit).
    case libraryFailure(file: String, library: String, detail: String)
    /// A command-line argument or option value is invalid.
    case invalidArgument(String)
    /// A bug in ModelPress: an invariant did not hold.
    case internalError(String)

    /// The CLI exit code: 2 for bad input or usage, 3 for internal errors.
    public var exitCode: Int32 {
        if case .internalError = self { return 3 }
        return 2
    }
}

extension ModelPressError {
    /// The same error with `file` renamed to `name` (a temporary file reported as the output
    /// it stands for).
    public func renamingFile(_ file: String, to name: String) -> ModelPressError {
        let rename = { (path: String) in path == file ? name : path }
        switch self {
        case .fileNotFound(let path): return .fileNotFound(path: rename(path))
        case .unrecognizedFormat(let path, let detail): return .unrecognizedFormat(path: rename(path), detail: detail)
        case .hdf5(let f, let object, let operation, let stack): return .hdf5(file: rename(f), object: object, operation: operation, stack: stack)
        case .missingEntry(let f, let path, let available): return .missingEntry(file: rename(f), path: path, available: available)
        case .invalidModel(let f, let location, let message, let hint): return .invalidModel(file: rename(f), location: location, message: message, hint: hint)
        case .unsupportedLayer(let f, let layer, let className, let reason): return .unsupportedLayer(file: rename(f), layer: layer, className: className, reason: reason)
        case .shapeMismatch(let f, let location, let what, let expected, let actual):
            return .shapeMismatch(file: rename(f), location: location, what: what, expected: expected, actual: actual)
        case .invalidData(let f, let path, let message): return .invalidData(file: rename(f), path: path, message: message)
        case .libraryFailure(let f, let library, let detail): return .libraryFailure(file: rename(f), library: library, detail: detail)
        case .invalidArgument, .internalError: return self
        }
    }
}

extension ModelPressError: CustomStringConvertible {
    /// One message for people: what failed, where, and what to do.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file or it cannot be read.\nHINT: check the path and permissions."
        case .unrecognizedFormat(let path, let detail):
            return "\(path): \(detail)\nHINT: ModelPress reads Keras .h5 / .keras / .weights.h5 (+ architecture JSON) models and HDF5 datasets."
        case .hdf5(let file, let object, let operation, let stack):
            let cause = stack.isEmpty ? "" : " (HDF5: \(stack.joined(separator: "; ")))"
            return "\(file): \(operation) failed at HDF5 path '\(object)'\(cause).\nHINT: the file may be truncated or damaged; re-save it."
        case .missingEntry(let file, let path, let available):
            let list = available.isEmpty ? "nothing" : available.sorted().joined(separator: ", ")
            return "\(file): no '\(path)' in the file (it has: \(list)).\nHINT: name the right one (for datasets: --x-key / --y-key)."
        case .invalidModel(let file, let location, let message, let hint):
            return "\(file): \(location): \(message)\nHINT: \(hint)"
        case .unsupportedLayer(let file, let layer, let className, let reason):
            return "\(file): layer '\(layer)' of class \(className) \(reason)"
        case .shapeMismatch(let file, let location, let what, let expected, let actual):
            return "\(file): \(location): \(what) has shape \(actual), expected \(expected).\nHINT: the weights do not belong to this architecture; re-save the model."
        case .invalidData(let file, let path, let message):
            return "\(file): dataset '\(path)': \(message)"
        case .libraryFailure(let file, let library, let detail):
            return "\(file): \(library) library failed on a malformed file (\(detail)); nothing was written.\nHINT: the file is damaged or was not written by Keras / h5py; re-save it from the original model."
        case .invalidArgument(let message):
            return message
        case .internalError(let message):
            return "internal error: \(message)\nHINT: this is a ModelPress bug; please report it with the command line."
        }
    }
}
