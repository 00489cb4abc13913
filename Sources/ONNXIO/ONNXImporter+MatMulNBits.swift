import ONNXProto
import TensorCore

// Import: onnxruntime's com.microsoft MatMulNBits (the layout `ONNXExporter+MatMulNBits.swift` writes).
extension ONNXImportContext {
    /// MatMulNBits with constant codes, scales and zero points, as a Linear on the K×N weight the
    /// codes encode, annotated with its blocks: signed codes when the zero points are the
    /// operator's default 2^(bits−1) and every scale is positive, else unsigned with the zero
    /// points. A block with a negative scale s (onnxruntime's symmetric quantizer writes
    /// max|w| / −8) is the same weight as scale |s|, codes M − c and zero point M − z
    /// (M = 2^bits − 1); a block with scale 0 is zero.
    mutating func importMatMulNBits(_ node: Onnx_NodeProto, _ i: Int) throws {
        let k = node.int("K", default: 0), n = node.int("N", default: 0), bits = node.int("bits", default: 4), block = node.int("block_size", default: 0)
        guard k > 0, n > 0, bits == 4 || bits == 8, block >= 16, block & (block - 1) == 0 else {
            throw fail(node, "has K=\(k), N=\(n), bits=\(bits), block_size=\(block); ModelPress reads 4- and 8-bit blocks of a power of two ≥ 16")
        }
        guard node.input.count < 5 || node.input[4].isEmpty else { throw fail(node, "has a g_idx input (act-order), which ModelPress does not read") }
        let blocks = (k + block - 1) / block, blob = block * bits / 8
        let codes = try constantInput(node, 1, what: "B (codes)")
        guard let raw = codes.integers, codes.shape == [n, blocks, blob] else { throw fail(node, "B has shape \(codes.shape), expected [\(n), \(blocks), \(blob)] uint8") }
        let scales = try constantInput(node, 2, what: "scales").tensor.storage
        guard scales.count == n * blocks else { throw fail(node, "has \(scales.count) scales, expected \(n * blocks)") }
        let offset = 1 << (bits - 1)
        var zeros = [Int](repeating: offset, count: n * blocks)
        if node.input.count > 3, !node.input[3].isEmpty {
            guard let z = try constantInput(node, 3, what: "zero_points").integers else { throw fail(node, "has float zero points, which ModelPress does not read") }
            let perColumn = bits == 8 ? blocks : (blocks + 1) / 2
            guard z.count == n * perColumn else { throw fail(node, "has \(z.count) zero-point bytes, expected \(n * perColumn)") }
            for column in 0..<n {
                for b in 0..<blocks {
                    let byte = Int(z[column * perColumn + (bits == 8 ? b : b / 2)])
                    zeros[column * blocks + b] = bits == 8 ? byte : (b % 2 == 0 ? byte & 0x0F : byte >> 4)
                }
            }
        }
        let signed = zeros.allSatisfy { $0 == offset } && scales.allSatisfy { $0 > 0 }
        let top = (1 << bits) - 1
        var q = TensorQuantization(
            scales: [Float](repeating: 1, count: n * blocks), zeroPoints: [Int32](repeating: 0, count: n * blocks), axis: 0,
            type: bits == 4 ? (signed ? .int4 : .uint4) : (signed ? .int8 : .uint8), blockSize: block)
        var weight = [Float](repeating: 0, count: k * n)
        for column in 0..<n {
            for b in 0..<blocks {
                let p = b * n + column, scale = scales[column * blocks + b], flipped = scale < 0
                q.scales[p] = scale == 0 ? 1 : abs(scale)
                let zero = zeros[column * blocks + b]
                q.zeroPoints[p] = signed ? 0 : Int32(flipped ? top - zero : zero)
                for row in (b * block)..<min(k, (b + 1) * block) where scale != 0 {
                    let i = row - b * block
                    let byte = Int(raw[(column * blocks + b) * blob + i * bits / 8])
                    let code = bits == 8 ? byte : (i % 2 == 0 ? byte & 0x0F : byte >> 4)
                    weight[row * n + column] = q.dequantize(Int64(signed ? code - offset : flipped ? top - code : code), channel: p)
                }
            }
        }
        try q.validate(for: [k, n]) { fail(node, $0) }
        let base = node.input[1].hasSuffix("/nbits") ? String(node.input[1].dropLast("/nbits".count)) : node.input[1] + "/weight"
        let name = uniqueConstantName(base)
        constants[name] = ONNXConstant(tensor: try Tensor(shape: [k, n], storage: weight), integers: nil)
        graph.quantization[name] = q
        var inputs = [node.input[0], name]
        if node.input.count > 5, !node.input[5].isEmpty { inputs.append(node.input[5]) }
        try emit(node, i, .linear, inputs)
    }
}
