import Foundation
import ONNXProto
import TensorCore

/// onnxruntime's `com.microsoft` MatMulNBits for Dense layers whose K×N kernel is 4- or 8-bit
/// blocks along K (`ONNXExportOptions.matMulNBits`, `--allow-contrib-ops`):
/// `Y = A · dequantize(B) + bias`, B uint8 N × ⌈K / block⌉ × (block · bits / 8), codes packed
/// low nibble first along K, scales N × ⌈K / block⌉, zero points packed the same way and left
/// out when every one is 2^(bits−1) (the operator's default: symmetric weights).
extension ONNXGraphBuilder {
    /// The contrib domain MatMulNBits lives in.
    static let contribDomain = "com.microsoft"

    /// Whether `node` is written as MatMulNBits: a Linear whose weight is blocked along K in 4 or
    /// 8 bits with float32 scales (MatMulNBits dequantizes in its input's type, float32).
    static func writesMatMulNBits(_ node: Node, _ quantization: [String: TensorQuantization]) -> Bool {
        guard case .linear = node.op, node.inputs.count >= 2, let q = quantization[node.inputs[1]] else { return false }
        return q.blockSize != nil && q.axis == 0 && (q.bits == 4 || q.bits == 8) && !q.halfScales
    }

    /// Writes `node` (see `writesMatMulNBits`) with its K×N `weight` and blocked annotation `q`.
    mutating func lowerMatMulNBits(_ node: Node, weight: Tensor, _ q: TensorQuantization) throws {
        guard let block = q.blockSize, weight.rank == 2 else { throw ModelPressError.internalError("'\(node.name)' has no blocked 2-D weight") }
        let (k, n) = (weight.shape[0], weight.shape[1])
        let blocks = (k + block - 1) / block
        let offset = Int64(1) << (q.bits - 1)  // signed codes are stored unsigned around the default zero point
        let index = ParameterIndexing(q, shape: weight.shape)
        func stored(_ code: Int64) -> UInt8 { UInt8(truncatingIfNeeded: q.type.isSigned ? code + offset : code) }
        let blob = block * q.bits / 8
        var packed = Data(count: n * blocks * blob)
        var scales = [Float](repeating: 0, count: n * blocks)
        var zeros = [UInt8](repeating: UInt8(offset), count: n * blocks)
        weight.storage.withUnsafeBufferPointer { w in
            for column in 0..<n {
                for b in 0..<blocks {
                    let p = index(b * block * n + column)
                    scales[column * blocks + b] = q.scales[p]
                    zeros[column * blocks + b] = stored(Int64(q.zeroPoints[p]))
                    for i in 0..<block {
                        let row = b * block + i
                        let code = row < k ? stored(q.quantize(w[row * n + column], channel: p)) : zeros[column * blocks + b]
                        let byte = (column * blocks + b) * blob + i * q.bits / 8
                        packed[byte] |= q.bits == 8 ? code : (i % 2 == 0 ? code & 0x0F : code << 4)
                    }
                }
            }
        }
        var codes = Onnx_TensorProto()
        codes.name = fresh(node.inputs[1] + "/nbits")
        codes.dataType = ONNXDataType.uint8
        codes.dims = [Int64(n), Int64(blocks), Int64(blob)]
        codes.rawData = packed
        appendInitializer(codes)
        var inputs = [node.inputs[0], codes.name, constant(node.inputs[1] + "/scales", try Tensor(shape: [n * blocks], storage: scales))]
        if zeros.contains(where: { Int64($0) != offset }) {
            var proto = Onnx_TensorProto()
            proto.name = fresh(node.inputs[1] + "/zero_points")
            proto.dataType = ONNXDataType.uint8
            if q.bits == 8 {
                proto.dims = [Int64(n * blocks)]
                proto.rawData = Data(zeros)
            } else {
                let perColumn = (blocks + 1) / 2
                var nibbles = Data(count: n * perColumn)
                for column in 0..<n {
                    for b in 0..<blocks { nibbles[column * perColumn + b / 2] |= b % 2 == 0 ? zeros[column * blocks + b] & 0x0F : zeros[column * blocks + b] << 4 }
                }
                proto.dims = [Int64(n * perColumn)]
                proto.rawData = nibbles
            }
            appendInitializer(proto)
            inputs.append(proto.name)
        }
        if let bias = node.bias { inputs += Array(repeating: "", count: 5 - inputs.count) + [bias] }
        add(
            "MatMulNBits", name: node.name, inputs: inputs, output: node.output,
            attributes: [.int("K", k), .int("N", n), .int("bits", q.bits), .int("block_size", block)],
            shape: graph.shapes[node.output], docString: layerDoc(node))
        nodes[nodes.count - 1].domain = Self.contribDomain
    }
}
