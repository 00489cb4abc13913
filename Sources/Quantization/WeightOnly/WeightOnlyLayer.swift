/// One layer of a weight-only quantization: what its weight became and what it costs.
public struct WeightOnlyLayer: Codable, Equatable, Sendable {
    /// IR node, source layer, op and the weight's name.
    public var node: String, layer: String, op: String, weight: String
    /// Integer type (`int4`, `uint4`, `int8`, `uint8`) and block size along `axis`.
    public var type: String, blockSize: Int, axis: Int
    /// How its block scales are stored: `float16` or `float32`.
    public var scaleType: String
    /// Weight elements.
    public var parameters: Int
    /// Bytes in the file: packed integers, scales and, asymmetric, packed zero points.
    public var bytes: Int
    /// Bytes of the float32 weight.
    public var floatBytes: Int
    /// Signal-to-noise ratio of the stored weight against the float one, in dB (nil: exact);
    /// with activation-aware scaling, of the scaled weight.
    public var weightSQNRdB: Double?
    /// The activation-aware exponent α chosen (nil: no scaling).
    public var activationExponent: Float?

    enum CodingKeys: String, CodingKey {
        case node, layer, op, weight, type, axis, parameters, bytes
        case blockSize = "block_size", scaleType = "scale_type", floatBytes = "float_bytes", weightSQNRdB = "weight_sqnr_db", activationExponent = "activation_exponent"
    }
}
