import Engine
import Foundation
import TensorCore
import XCTest

/// Builds small IR graphs by hand for the ONNX tests: each `add` appends a node whose name and
/// output are the same, and weights are deterministic pseudo-random values.
struct GraphMaker {
    var graph: Graph
    private var seed: UInt64

    init(_ name: String, input: [Int], inputName: String = "input", seed: UInt64 = 7) throws {
        graph = Graph(name: name)
        self.seed = seed
        try graph.addInput(ValueInfo(name: inputName, shape: [dynamicBatch] + input))
    }

    /// Appends `op` reading `inputs`; returns the output name.
    @discardableResult
    mutating func add(_ name: String, _ op: Op, _ inputs: [String], layer: String? = nil) throws -> String {
        try graph.append(Node(name: name, op: op, inputs: inputs, output: name, layer: layer))
        return name
    }

    /// A constant of `shape` with values in `range`.
    mutating func weight(_ name: String, _ shape: [Int], _ range: ClosedRange<Float> = -1...1) throws -> String {
        let count = shape.reduce(1, *)
        let values = (0..<count).map { _ in nextUniform(range) }
        try graph.addInitializer(name, try Tensor(shape: shape, storage: values))
        return name
    }

    /// Marks `names` as the graph outputs.
    mutating func outputs(_ names: String...) {
        graph.outputs = names.map { ValueInfo(name: $0, shape: graph.shapes[$0] ?? []) }
    }

    mutating func nextUniform(_ range: ClosedRange<Float>) -> Float {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        let unit = Float(seed >> 40) / Float(1 << 24)
        return range.lowerBound + unit * (range.upperBound - range.lowerBound)
    }
}

/// A deterministic N×`shape` batch with values in `range`.
func sampleInput(_ shape: [Int], batch: Int = 3, range: ClosedRange<Float> = -4...4, seed: UInt64 = 11) throws -> Tensor {
    var state = seed
    let count = batch * shape.reduce(1, *)
    let values = (0..<count).map { _ -> Float in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return range.lowerBound + Float(state >> 40) / Float(1 << 24) * (range.upperBound - range.lowerBound)
    }
    return try Tensor(shape: [batch] + shape, storage: values)
}

/// Asserts `a` and `b` have equal shapes and differ by at most `tolerance` (absolute, plus
/// `tolerance` relative to |b|); reports the largest difference and where.
func assertClose(
    _ a: Tensor, _ b: Tensor, tolerance: Float = 1e-5, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.shape, b.shape, "shape \(message)", file: file, line: line)
    guard a.shape == b.shape else { return }
    var worst: Float = 0, at = 0
    for i in 0..<a.count {
        let d = abs(a.storage[i] - b.storage[i])
        if d > worst || d.isNaN { worst = d; at = i }
    }
    let allowed = tolerance * (1 + abs(b.storage.isEmpty ? 0 : b.storage[at]))
    XCTAssert(worst <= allowed, "\(message): max |diff| \(worst) at \(at) (\(a.storage[at]) vs \(b.storage[at]))", file: file, line: line)
}

/// Runs a single-input graph.
func execute(_ graph: Graph, _ x: Tensor) throws -> Tensor {
    try Executor(graph: graph).run(x)
}
