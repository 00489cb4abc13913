/// How static and dynamic quantization treat an op. Read by the quantization plan, the
/// integer executor and the QOperator / dynamic ONNX exporters (`Graph.quantizableWeight`), so
/// they apply one eligibility rule.
public enum QuantizationRole: Hashable, Sendable {
    /// Runs on int8 weights (Conv, Linear, ConvTranspose): the weight is input 1, its output
    /// channels lie along `weightChannelAxis`, the optional bias is input 2. `integerKernel`:
    /// whether integer kernels exist for it (QLinearConv / ConvInteger / MatMulInteger and the
    /// integer executor); without, it computes in float between its Q/DQ pairs.
    case compute(weightChannelAxis: Int, integerKernel: Bool)
    /// Moves values without computing new ones (max pooling, reshapes, transposes): its output
    /// shares its input's quantization parameters exactly.
    case transparent
    /// Computed in float between quantized tensors, each with its own calibrated range (Add,
    /// average pooling).
    case requantized
    /// A clamp to `[0, upper]` (ReLU, ReLU6) that the range of the value it reads can absorb
    /// when it directly follows a compute op; float otherwise.
    case foldableClamp(upper: Float)
    /// Stays float (its inputs are dequantized first).
    case float
    /// Stays float by default, being a known accuracy killer in int8 (Softmax, LayerNorm, the
    /// product of two activations); selected by name (`--quantize-ops`), it is `.requantized`.
    case floatUnlessSelected
}

/// The weight operands of a node whose role is `.compute`: what every quantizer and exporter
/// reads (the one place the weight's channel axis is decided).
public struct ComputeOperands: Hashable, Sendable {
    /// The data input.
    public var input: String
    /// The weight input.
    public var weight: String
    /// Output-channel axis of the weight (0 for Conv OIHW, 1 for Linear K×M).
    public var channelAxis: Int
    /// The bias input, if any.
    public var bias: String?
}

extension Node {
    /// The weight operands when the op runs on quantized weights (`QuantizationRole.compute`).
    public var computeOperands: ComputeOperands? {
        guard case .compute(let axis, _) = op.definition.quantizationRole, inputs.count >= 2 else { return nil }
        return ComputeOperands(input: inputs[0], weight: inputs[1], channelAxis: axis, bias: bias)
    }
}

extension Node {
    /// Whether the node is a compute op with integer kernels (its role's `integerKernel`).
    public var hasIntegerKernel: Bool {
        if case .compute(_, let integer) = op.definition.quantizationRole { return integer }
        return false
    }
}
