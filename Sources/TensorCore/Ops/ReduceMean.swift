/// Mean over `axes` of each sample (never the batch axis); reduced axes stay as size 1 when
/// `keepDims` (ONNX `ReduceMean`; TensorFlow's `moments` and `reduce_mean`).
public struct ReduceMean: OpDefinition {
    /// The reduced axes, sorted, each ≥ 1.
    public var axes: [Int]
    /// Whether reduced axes are kept (as 1).
    public var keepDims: Bool

    /// The mean over `axes` (sorted here).
    public init(axes: [Int], keepDims: Bool) {
        self.axes = axes.sorted()
        self.keepDims = keepDims
    }

    public var name: String { "ReduceMean" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    /// Channels pass along the axes it keeps (all of them in place when `keepDims`).
    public func channelRule(inputs: [[Int]]) -> ChannelRule {
        keepDims ? .passThrough(blocked: .axes(Set(axes)), perChannel: [], reason: "averages across them") : .refuses("ReduceMean without keepdims renumbers the axes")
    }
    /// Stays float (its statistics feed normalizations).
    public var quantizationRole: QuantizationRole { .float }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }

    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard !axes.isEmpty, axes.allSatisfy({ $0 >= 1 && $0 < x.count }), Set(axes).count == axes.count else {
            throw check.fail("axes \(axes) must be distinct non-batch axes of \(x)")
        }
        return [outputShape(x)]
    }

    /// The shape of the mean of an input shaped `x` (axes already checked).
    public func outputShape(_ x: [Int]) -> [Int] {
        keepDims ? keptShape(x) : x.indices.filter { !axes.contains($0) }.map { x[$0] }
    }

    /// `x` with the reduced axes kept as 1 (the output shape when `keepDims`).
    public func keptShape(_ x: [Int]) -> [Int] { x.indices.map { axes.contains($0) ? 1 : x[$0] } }

    /// One addition per input element.
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { Checked.product((inputs.first ?? []).dropFirst()) ?? 0 }
}
