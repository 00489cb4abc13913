/// The window of 2-D max / average pooling over NCHW input.
public struct Pool2DAttributes: Hashable, Sendable {
    /// Window height and width.
    public var kernel: Size2D
    /// Vertical and horizontal stride.
    public var strides: Size2D
    /// Padding on each side; padded cells never count (max ignores them, average divides by the
    /// number of real cells, as Keras and ONNX `count_include_pad=0` do).
    public var pads: Padding2D

    /// A window with the given values.
    public init(kernel: Size2D, strides: Size2D, pads: Padding2D = .zero) {
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
    }

    /// `N×C×H×W → N×C×OH×OW` for this window.
    func outputShape(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] {
        let x = try check.input(inputs, 0)
        guard x.count == 4 else { throw check.fail("expects 4-D input, got \(x)") }
        guard pads.top < kernel.height, pads.bottom < kernel.height, pads.left < kernel.width, pads.right < kernel.width else {
            throw check.fail("padding \(pads) must be smaller than the window \(kernel) on every side")
        }
        let oh = try check.window(x[2], kernel: kernel.height, stride: strides.height, padding: pads.vertical)
        let ow = try check.window(x[3], kernel: kernel.width, stride: strides.width, padding: pads.horizontal)
        return [[x[0], x[1], oh, ow]]
    }
}

/// Pooling keeps channels apart on axis 1 of a 4-D input, and pools along every other axis.
private let poolingChannels = ChannelRule.passThrough(blocked: .allBut(axis: 1, rank: 4), perChannel: [], reason: "pools along their axis")

/// 2-D max pooling (NCHW).
public struct MaxPool2D: OpDefinition {
    /// The window.
    public var window: Pool2DAttributes
    /// Max pooling over `window`.
    public init(_ window: Pool2DAttributes) { self.window = window }
    /// Window height and width.
    public var kernel: Size2D { window.kernel }
    /// Vertical and horizontal stride.
    public var strides: Size2D { window.strides }
    /// Padding on each side.
    public var pads: Padding2D { window.pads }

    public var name: String { "MaxPool" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { poolingChannels }
    /// The maximum of grid values is on the grid.
    public var quantizationRole: QuantizationRole { .transparent }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }
    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] { try window.outputShape(inputs, check) }
    /// Not counted (comparisons).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}

/// 2-D average pooling (NCHW), padded cells excluded from the mean.
public struct AveragePool2D: OpDefinition {
    /// The window.
    public var window: Pool2DAttributes
    /// Average pooling over `window`.
    public init(_ window: Pool2DAttributes) { self.window = window }
    /// Window height and width.
    public var kernel: Size2D { window.kernel }
    /// Vertical and horizontal stride.
    public var strides: Size2D { window.strides }
    /// Padding on each side.
    public var pads: Padding2D { window.pads }

    public var name: String { "AveragePool" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { poolingChannels }
    public var quantizationRole: QuantizationRole { .requantized }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }
    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] { try window.outputShape(inputs, check) }
    /// Not counted (additions).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}

/// `N×C×H×W → N×C×1×1` mean.
public struct GlobalAveragePool: OpDefinition {
    /// The op (it has no attributes).
    public init() {}
    public var name: String { "GlobalAveragePool" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { poolingChannels }
    public var quantizationRole: QuantizationRole { .requantized }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }
    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] { [try globalPoolShape(inputs, check)] }
    /// Not counted (additions).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}

/// `N×C×H×W → N×C×1×1` maximum.
public struct GlobalMaxPool: OpDefinition {
    /// The op (it has no attributes).
    public init() {}
    public var name: String { "GlobalMaxPool" }
    public var signature: OpSignature { .unary }
    public var trainableInputs: [Int] { [] }
    public func channelRule(inputs: [[Int]]) -> ChannelRule { poolingChannels }
    /// The maximum of grid values is on the grid.
    public var quantizationRole: QuantizationRole { .transparent }
    public var halfPrecision: HalfPrecisionRule { .float16 }
    public var blockQuantizedWeight: BlockQuantizedWeight? { nil }
    public func outputShapes(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [[Int]] { [try globalPoolShape(inputs, check)] }
    /// Not counted (comparisons).
    public func macs(inputs: [[Int]], outputs: [[Int]]) -> Int { 0 }
}

/// `N×C×H×W → N×C×1×1`.
private func globalPoolShape(_ inputs: [[Int]], _ check: ShapeCheck) throws -> [Int] {
    let x = try check.input(inputs, 0)
    guard x.count == 4 else { throw check.fail("expects 4-D input, got \(x)") }
    return [x[0], x[1], 1, 1]
}
