/// One node of a float16 plan: the precision it runs in, why, and what its weights cost.
public struct HalfPrecisionLayer: Codable, Equatable, Sendable {
    /// IR node name.
    public var node: String
    /// Source layer.
    public var layer: String
    /// Op name.
    public var op: String
    /// `fp16` or `fp32`: the precision it computes in.
    public var precision: String
    /// Why it stays float32 (nil when it computes in float16).
    public var reason: String?
    /// Weight elements it reads (initializers, indices excepted).
    public var parameters: Int
    /// Bytes of those weights in the file.
    public var bytes: Int
    /// Bytes they take in float32.
    public var floatBytes: Int
    /// Largest |weight| (0 without weights).
    public var maxAbsWeight: Float
    /// Non-zero weights that float16 rounds to zero (below 2⁻²⁵ in magnitude).
    public var flushedToZero: Int
    /// Largest |output| seen on the calibration data (nil: ranges not measured).
    public var maxAbsOutput: Float?
}
