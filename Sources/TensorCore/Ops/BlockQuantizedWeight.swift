/// Where weight-only block quantization applies to an op (`OpDefinition.blockQuantizedWeight`):
/// the input holding the weight and the axis its blocks run along, the input dimension (K of a
/// K×M Dense kernel, D of a V×D embedding table), as ONNX's blocked DequantizeLinear and
/// onnxruntime's MatMulNBits lay them out.
public struct BlockQuantizedWeight: Hashable, Sendable {
    /// Input position of the weight.
    public var input: Int
    /// The weight's axis along which blocks of consecutive elements share one scale.
    public var axis: Int

    /// The weight at `input`, blocked along `axis`.
    public init(input: Int, axis: Int) {
        self.input = input
        self.axis = axis
    }
}
