import ONNXProto

/// The QOperator-form operators ModelPress reads beyond QLinearConv — ONNX's QLinearMatMul and
/// onnxruntime's `com.microsoft` ones its `quantize_static(QuantFormat.QOperator)` writes — each
/// as the float op it computes between DequantizeLinear inputs and a QuantizeLinear output, and
/// where its operands sit among its inputs. `QOperatorExpansion` rewrites them into that QDQ form.
enum QLinearOperator: String, CaseIterable {
    /// `QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp)` (ai.onnx).
    case matMul = "QLinearMatMul"
    /// `QGemm(A, a_scale, a_zp, B, b_scale, b_zp, C?, y_scale?, y_zp?)`: C is int32 on the
    /// `a_scale · b_scale` grid; without `y_scale` the output is float.
    case gemm = "QGemm"
    /// `QLinearAdd(A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp)`.
    case add = "QLinearAdd"
    /// `QLinearMul`, laid out as QLinearAdd.
    case mul = "QLinearMul"
    /// `QLinearSoftmax(X, X_scale, X_zp, Y_scale, Y_zp)`, attributes `axis`, `opset`.
    case softmax = "QLinearSoftmax"
    /// `QLinearGlobalAveragePool(X, x_scale, x_zp, y_scale, y_zp)`, attribute `channels_last`.
    case globalAveragePool = "QLinearGlobalAveragePool"
    /// `QLinearAveragePool(X, x_scale, x_zp, y_scale, y_zp)`, AveragePool's attributes and `channels_last`.
    case averagePool = "QLinearAveragePool"
    /// `QLinearSigmoid(X, X_scale, X_zp, Y_scale, Y_zp)`.
    case sigmoid = "QLinearSigmoid"
    /// `QLinearLeakyRelu(X, X_scale, X_zp, Y_scale, Y_zp)`, attribute `alpha`.
    case leakyRelu = "QLinearLeakyRelu"
    /// `QLinearConcat(Y_scale, Y_zp, X1, X1_scale, X1_zp, …)`, attribute `axis`.
    case concat = "QLinearConcat"

    /// One quantized operand: the integer value, its scale and zero point ("" when left out).
    struct Operand {
        var value: String, scale: String, zeroPoint: String
    }

    /// The float op computed between the Q/DQ pairs.
    var floatOp: String {
        switch self {
        case .matMul: "MatMul"
        case .gemm: "Gemm"
        case .add: "Add"
        case .mul: "Mul"
        case .softmax: "Softmax"
        case .globalAveragePool: "GlobalAveragePool"
        case .averagePool: "AveragePool"
        case .sigmoid: "Sigmoid"
        case .leakyRelu: "LeakyRelu"
        case .concat: "Concat"
        }
    }

    /// Attributes of these ops that are not the float op's.
    static let quantizationAttributes: Set<String> = ["channels_last", "opset"]

    /// The quantized operands of a node with `inputs`, and the output's (scale, zero point)
    /// (nil: a float output); nil when the inputs do not have the op's layout.
    func operands(_ inputs: [String]) -> (operands: [Operand], output: (scale: String, zeroPoint: String)?)? {
        func at(_ i: Int) -> String { i < inputs.count ? inputs[i] : "" }
        func operand(_ i: Int) -> Operand { Operand(value: at(i), scale: at(i + 1), zeroPoint: at(i + 2)) }
        switch self {
        case .matMul, .add, .mul:
            guard inputs.count >= 7 else { return nil }
            return ([operand(0), operand(3)], (at(6), at(7)))
        case .gemm:
            guard inputs.count >= 5 else { return nil }
            return ([operand(0), operand(3)], at(7).isEmpty ? nil : (at(7), at(8)))
        case .softmax, .globalAveragePool, .averagePool, .sigmoid, .leakyRelu:
            guard inputs.count >= 4 else { return nil }
            return ([operand(0)], (at(3), at(4)))
        case .concat:
            guard inputs.count >= 5, (inputs.count - 2) % 3 == 0 else { return nil }
            return (stride(from: 2, to: inputs.count, by: 3).map(operand), (at(0), at(1)))
        }
    }
}
