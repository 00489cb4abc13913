import ModelIO

/// Writes a small HDF5 dataset file (`x` float32 of `shape`, `y` int64) for tests.
public func writeDataset(path: String, x: [Float], shape: [Int], y: [Int64]) throws {
    let file = try HDF5File(creating: path)
    try file.root.write(x, shape: shape, as: "x")
    try file.root.write(y, shape: [y.count], as: "y")
    try file.flush()
}
