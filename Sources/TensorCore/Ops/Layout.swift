/// `N×d1×…×dk → N×(d1·…·dk)`, row-major.
public struct Flatten: OpDefinition {
    /// The op (it has no attributes).
    public init() {}
    public var name: String { "Flatten" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .flattens }
    public var quantizationRole: QuantizationRole { .transparent }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }
    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard let n = Checked.product(x.dropFirst()) else { throw check.fail("shape \(x) overflows") }
        return [[x[0], n]]
    }
    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}

/// Row-major reshape to `N×shape` (the batch dimension is kept).
public struct Reshape: OpDefinition {
    /// The per-sample shape.
    public var shape: [Int]
    /// Reshape to `N×shape`.
    public init(_ shape: [Int]) { self.shape = shape }
    public var name: String { "Reshape" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { shape.count == 1 ? .flattens : .refuses("reshapes them to \(shape)") }
    public var quantizationRole: QuantizationRole { .transparent }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }
    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard let n = Checked.product(x.dropFirst()), let m = Checked.product(shape), n == m else {
            throw check.fail("cannot reshape \(x) to [batch] + \(shape)")
        }
        return [[x[0]] + shape]
    }
    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}

/// Axis permutation over all axes including batch (which stays first): output axis `i` is
/// input axis `perm[i]`.
public struct Transpose: OpDefinition {
    /// The permutation.
    public var perm: [Int]
    /// Transpose by `perm`.
    public init(_ perm: [Int]) { self.perm = perm }
    public var name: String { "Transpose" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .permutes(perm) }
    public var quantizationRole: QuantizationRole { .transparent }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }
    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard perm.sorted() == Array(0..<x.count), perm.first == 0 else { throw check.fail("invalid permutation \(perm) for \(x)") }
        return [perm.map { x[$0] }]
    }
    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}

/// Copies its input.
public struct Identity: OpDefinition {
    /// The op (it has no attributes).
    public init() {}
    public var name: String { "Identity" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { .passThrough(blocked: .none, perChannel: [], reason: "") }
    public var quantizationRole: QuantizationRole { .transparent }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }
    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] { [try check.input(inputs, 0)] }
    /// Not counted (moves data).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}
