import TensorCore

/// Moves a Transpose past the ops that commute with it — activations, identities, softmax,
/// PRelu, and elementwise ops whose other operands are constants (which get permuted) — so
/// that it can meet and cancel its inverse further down (see `DropIdentities`). Used by
/// `ChannelsFirstInput` to carry the channels-last view of an NCHW input through Keras
/// preprocessing layers (`Rescaling`, `Normalization`) into the convolutions.
struct SinkTranspose {
    /// Sinks the Transpose node named `start` as far as it goes; returns the names of all the
    /// transposes it became (some may have been cancelled or removed since).
    static func sink(_ g: inout Graph, from start: String) throws -> Set<String> {
        var family: Set<String> = [start]
        var work = [start]
        while let name = work.popLast() {
            guard let t = g.nodes.firstIndex(where: { $0.name == name }), case .transpose(let transposeOp) = g.nodes[t].op,
                !g.isOutput(g.nodes[t].output)
            else { continue }
            let transpose = g.nodes[t]
            for readerName in g.readers(of: transpose.output).map({ g.nodes[$0].name }) {
                guard let r = g.nodes.firstIndex(where: { $0.name == readerName }),
                    let moved = try commute(&g, g.nodes[r], through: transpose, perm: transposeOp.perm)
                else { continue }
                g.nodes[r] = moved.node
                g.nodes.insert(moved.transpose, at: r + 1)
                family.insert(moved.transpose.name)
                work.append(moved.transpose.name)
            }
            if g.readCount(of: transpose.output) == 0, let index = g.nodes.firstIndex(where: { $0.name == name }) {
                g.removeNodes([index])
            }
        }
        g.removeUnreadInitializers()
        return family
    }

    /// `reader` rewritten to read the transpose's input, and the transpose that now follows it;
    /// nil when `reader` does not commute with the transpose.
    private static func commute(_ g: inout Graph, _ reader: Node, through t: Node, perm: [Int]) throws -> (node: Node, transpose: Node)? {
        guard let outShape = g.shapes[reader.output], outShape.count == perm.count, !g.isOutput(reader.output) else { return nil }
        var node = reader
        switch reader.op {
        case .activation, .identity:
            break
        case .softmax(let softmax):
            node.op = .softmax(axis: perm[softmax.axis])
        case .reduceMean(let mean) where mean.keepDims:
            node.op = .reduceMean(ReduceMean(axes: mean.axes.map { perm[$0] }, keepDims: true))
        case .prelu:
            guard reader.inputs.count == 2, reader.inputs[0] == t.output, let slope = g.initializers[reader.inputs[1]],
                let permuted = permuteConstant(slope, perm: perm, rank: perm.count - 1, batch: false)
            else { return nil }
            node.inputs[1] = try store(&g, permuted, like: reader.inputs[1])
        case .elementwise:
            for (i, input) in reader.inputs.enumerated() where input != t.output {
                guard let constant = g.initializers[input],
                    let permuted = permuteConstant(constant, perm: perm, rank: perm.count, batch: true)
                else { return nil }
                node.inputs[i] = try store(&g, permuted, like: input)
            }
        case .conv2D, .convTranspose2D, .linear, .batchNormalization, .maxPool2D, .averagePool2D, .globalAveragePool, .globalMaxPool, .flatten,
            .reshape, .transpose, .concat, .pad, .slice, .upsampleNearest, .resizeBilinear, .split, .layerNormalization, .reduceMean, .tile, .embedding, .recurrent,
            .reverse, .matMul, .expandBatch, .stepMask:
            return nil
        }
        node.inputs = node.inputs.map { $0 == t.output ? t.inputs[0] : $0 }
        var inverse = [Int](repeating: 0, count: perm.count)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        let name = g.uniqueName(reader.output + "/transposed")
        let moved = Node(name: name, op: .transpose(perm), inputs: [reader.output], output: name, layer: reader.layer)
        g.replaceReads(of: reader.output, with: name)
        g.shapes[reader.output] = inverse.map { outShape[$0] }
        g.shapes[name] = outShape
        return (node, moved)
    }

    /// Stores `tensor` as a new initializer named after `original`, or reuses `original` when unchanged.
    private static func store(_ g: inout Graph, _ tensor: Tensor, like original: String) throws -> String {
        if g.initializers[original] == tensor { return original }
        let name = g.uniqueName(original + "/transposed")
        try g.addInitializer(name, tensor)
        return name
    }

    /// A constant broadcast against the transposed value, rewritten for the untransposed one:
    /// padded on the left to `rank` axes (`batch`: the first of them is the batch axis and must be 1),
    /// then permuted by the inverse of `perm`.
    static func permuteConstant(_ c: Tensor, perm: [Int], rank: Int, batch: Bool) -> Tensor? {
        guard c.rank <= rank else { return nil }
        if c.count == 1 { return c }
        let offset = batch ? 0 : 1
        let shape = [Int](repeating: 1, count: rank - c.rank) + c.shape
        if batch && shape[0] != 1 { return nil }
        // Axis a of the transposed value is axis perm[a] of the original; constant axis j sits at value axis j + offset.
        var target = [Int](repeating: 1, count: rank)
        for j in 0..<rank { target[perm[j + offset] - offset] = shape[j] }
        var strides = [Int](repeating: 1, count: rank)
        for j in stride(from: rank - 2, through: 0, by: -1) { strides[j] = strides[j + 1] * shape[j + 1] }
        var out = [Float](repeating: 0, count: c.count)
        var index = [Int](repeating: 0, count: rank)
        for k in 0..<c.count {
            var source = 0
            for j in 0..<rank { source += index[perm[j + offset] - offset] * strides[j] }
            out[k] = c.storage[source]
            var a = rank - 1
            while a >= 0 { index[a] += 1; if index[a] < target[a] { break }; index[a] = 0; a -= 1 }
        }
        return try? Tensor(shape: target, storage: out)
    }
}
