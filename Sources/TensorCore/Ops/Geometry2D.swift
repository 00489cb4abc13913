/// A height × width pair (kernel sizes, strides, dilations, scale factors).
public struct Size2D: Hashable, Sendable, CustomStringConvertible {
    /// Along the rows (H).
    public var height: Int
    /// Along the columns (W).
    public var width: Int

    /// `height × width`.
    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    /// `[height, width]`, or `nil` for any other count (attributes read from a file).
    public init?(_ values: [Int]) {
        guard values.count == 2 else { return nil }
        self.init(values[0], values[1])
    }

    /// `1 × 1`.
    public static let one = Size2D(1, 1)
    /// `[height, width]`, the ONNX attribute order.
    public var array: [Int] { [height, width] }
    /// `[height, width]`, as arrays print.
    public var description: String { "[\(height), \(width)]" }
}

/// Zero padding of a 2-D window sweep, in cells on each side.
public struct Padding2D: Hashable, Sendable, CustomStringConvertible {
    /// Rows added above.
    public var top: Int
    /// Columns added on the left.
    public var left: Int
    /// Rows added below.
    public var bottom: Int
    /// Columns added on the right.
    public var right: Int

    /// Padding on each side.
    public init(top: Int, left: Int, bottom: Int, right: Int) {
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }

    /// `[top, left, bottom, right]`, or `nil` for any other count (attributes read from a file).
    public init?(_ values: [Int]) {
        guard values.count == 4 else { return nil }
        self.init(top: values[0], left: values[1], bottom: values[2], right: values[3])
    }

    /// No padding.
    public static let zero = Padding2D(top: 0, left: 0, bottom: 0, right: 0)
    /// `[top, left, bottom, right]`: ONNX `pads` order (begins, then ends).
    public var array: [Int] { [top, left, bottom, right] }
    /// Rows added in all.
    public var vertical: Int { top + bottom }
    /// Columns added in all.
    public var horizontal: Int { left + right }
    /// `[top, left, bottom, right]`, as arrays print.
    public var description: String { "\(array)" }
}
