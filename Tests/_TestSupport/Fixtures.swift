import Foundation
import ModelIO
import TensorCore

/// Paths into the repository's `fixtures/` folder (made by fixtures/make_fixtures.py).
public enum Fixtures {
    /// The repository root, found from this source file's location.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// Absolute path of `relative` under `fixtures/`.
    public static func path(_ relative: String) -> String { root + "/fixtures/" + relative }

    /// Keras's reference outputs for a fixture model: `y_pred` and the input file it was computed on.
    public struct Expected {
        public let predictions: Tensor
        public let input: String
        public let xKey: String
        public let accuracy: Double?
    }

    /// Reads `expected/<dir>/<name>[.h5]` for model `models/<dir>/<name>`.
    public static func expected(forModel model: String) throws -> Expected {
        let name = model.hasSuffix(".h5") ? model : model + ".h5"
        let file = try HDF5File(readingFrom: path("expected/" + name))
        let input = try file.root.stringAttribute("input")
        let xKey = (try? file.root.stringAttribute("x_key")) ?? "x"
        let accuracy = try? file.root.doublesAttribute("accuracy").first
        return Expected(
            predictions: try file.root.dataset("y_pred").readTensor(),
            input: input.hasPrefix("/") ? input : path(input), xKey: xKey, accuracy: accuracy ?? nil)
    }
}

/// The largest absolute difference between two equally long arrays.
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// The largest difference relative to the larger magnitude of the reference, `|a − b| / max(|b|_∞, tiny)`.
public func maxRelativeDifference(_ a: [Float], _ reference: [Float]) -> Float {
    let scale = max(reference.reduce(0) { max($0, abs($1)) }, 1e-12)
    return maxAbsDifference(a, reference) / scale
}

/// A deterministic pseudo-random generator (SplitMix64) for test data.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}

/// A tensor of `shape` with values uniform in `range`, from `generator`.
public func randomTensor(_ shape: [Int], in range: ClosedRange<Float> = -1...1, _ generator: inout SeededGenerator) -> Tensor {
    let count = shape.reduce(1, *)
    // Tensor(shape:storage:) only fails on a count mismatch, which cannot happen here.
    return (try? Tensor(shape: shape, storage: (0..<count).map { _ in Float.random(in: range, using: &generator) })) ?? Tensor(scalar: 0)
}
