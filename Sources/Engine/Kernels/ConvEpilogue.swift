import TensorCore

/// What a convolution kernel applies to each output plane while it is still in cache, after
/// the bias: a residual added elementwise, then an activation (the nodes that read the
/// convolution's output, run in one pass instead of one pass each).
public struct ConvEpilogue: Sendable {
    /// N×O×OH×OW, the convolution's output shape: added elementwise.
    public var residual: Tensor?
    /// Applied last.
    public var activation: Activation?

    /// An epilogue of `residual` then `activation`.
    public init(residual: Tensor? = nil, activation: Activation? = nil) {
        self.residual = residual
        self.activation = activation
    }

    /// Bias only.
    public static let none = ConvEpilogue()
}

/// `plane[k] = activation(plane[k] + bias + residual[k])` for `k < count`: one output channel
/// plane (contiguous `count` floats), `residual` the same plane of the residual or nil.
@inline(__always)
func applyConvEpilogue(
    _ plane: UnsafeMutablePointer<Float>, count: Int, bias: Float, residual: UnsafePointer<Float>?, activation: Activation?
) {
    switch (residual, activation) {
    case (nil, .relu?):
        for k in 0..<count { plane[k] = max(plane[k] + bias, 0) }
    case (let r?, .relu?):
        for k in 0..<count { plane[k] = max(plane[k] + bias + r[k], 0) }
    case (nil, .clip(let lo, let hi)?):
        for k in 0..<count { plane[k] = min(max(plane[k] + bias, lo), hi) }
    case (let r?, _):
        for k in 0..<count { plane[k] = plane[k] + bias + r[k] }
        if let activation { applyActivation(activation, UnsafeMutableBufferPointer(start: plane, count: count)) }
    case (nil, _):
        if bias != 0 { for k in 0..<count { plane[k] += bias } }
        if let activation { applyActivation(activation, UnsafeMutableBufferPointer(start: plane, count: count)) }
    }
}
