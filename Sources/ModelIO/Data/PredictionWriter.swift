import TensorCore

/// Writes model outputs to an HDF5 file atomically: dataset `y_pred` (float32, N×…) plus
/// provenance attributes.
public enum PredictionWriter {
    /// Writes `outputs` (N×… row-major) to `path` as `y_pred`, with string attributes `attributes`.
    public static func write(_ outputs: Tensor, to path: String, attributes: [String: String]) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File(creating: temporary)
            try file.root.write(outputs.storage, shape: outputs.shape, as: "y_pred")
            for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
                try file.root.setAttribute(key, string: value)
            }
            try file.flush()
        }
    }
}
