import TensorCore

extension StudentSpec {
    /// `transformer:L,d,heads`: L blocks, width d (a multiple of `heads`), each of 1…64 / 1…4096 / 1…64.
    static func parseTransformer(_ text: String) throws -> StudentSpec {
        let numbers = text.dropFirst("transformer:".count).split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard numbers.count == 3, let blocks = numbers[0], let width = numbers[1], let heads = numbers[2], (1...64).contains(blocks),
            (1...4096).contains(width), (1...64).contains(heads), width % heads == 0
        else {
            throw ModelPressError.invalidArgument(
                "student spec '\(text)' is not transformer:BLOCKS,WIDTH,HEADS with WIDTH a multiple of HEADS.\nHINT: write e.g. transformer:2,32,4.")
        }
        return StudentSpec(layers: [.transformer(blocks: blocks, width: width, heads: heads)])
    }

    /// The `transformer:` student on N×steps×features: a Dense embedding to `width` plus learned
    /// position embeddings, `blocks` post-norm encoder blocks (self-attention with `heads`
    /// heads → residual → LayerNorm → Dense(2·width, relu) → Dense(width) → residual →
    /// LayerNorm), the mean over steps, Dense(classes). Kernels and position embeddings
    /// Glorot-uniform, biases zero, LayerNorm γ one and β zero, as Keras initialises them.
    func buildTransformer(
        blocks: Int, width: Int, heads: Int, sampleShape: [Int], classes: Int, graph: inout Graph, random: inout TrainingRandom
    ) throws -> TrainableModel {
        guard sampleShape.count == 2 else {
            throw ModelPressError.invalidArgument(
                "student spec transformer: needs sequence samples steps × features, not \(sampleShape).\nHINT: use --student-x-key with an N×steps×features dataset, or a dense: student.")
        }
        let (steps, features) = (sampleShape[0], sampleShape[1]), size = width / heads
        func uniform(_ shape: [Int], fanIn: Int, fanOut: Int) throws -> Tensor {
            let limit = (6 / Float(fanIn + fanOut)).squareRoot()
            return try Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in random.uniform(-limit, limit) })
        }
        func node(_ name: String, _ op: Op, _ inputs: [String], layer: String) throws -> String {
            try graph.append(Node(name: name, op: op, inputs: inputs, output: name, layer: layer))
            return name
        }
        func dense(_ x: String, _ name: String, from k: Int, to m: Int, layer: String) throws -> String {
            try graph.addInitializer(name + "/kernel", try uniform([k, m], fanIn: k, fanOut: m))
            try graph.addInitializer(name + "/bias", try Tensor(shape: [m]))
            return try node(name, .linear, [x, name + "/kernel", name + "/bias"], layer: layer)
        }
        func layerNorm(_ x: String, _ name: String, layer: String) throws -> String {
            try graph.addInitializer(name + "/gamma", try Tensor(shape: [width], repeating: 1))
            try graph.addInitializer(name + "/beta", try Tensor(shape: [width]))
            return try node(name, .layerNormalization(LayerNormalization(axis: 2, epsilon: 1e-6)), [x, name + "/gamma", name + "/beta"], layer: layer)
        }
        var x = try dense("input", "embed", from: features, to: width, layer: "embed")
        try graph.addInitializer("positions/embeddings", try uniform([1, steps, width], fanIn: steps, fanOut: width))
        let positions = try node("positions", .expandBatch(ExpandBatch()), ["input", "positions/embeddings"], layer: "positions")
        x = try node("embed_positions", .elementwise(.add), [x, positions], layer: "positions")
        try graph.addInitializer("attention_scale", Tensor(scalar: 1 / Float(size).squareRoot()))
        for b in 1...blocks {
            let block = "block_\(b)", a = block + "/attention"
            func byHead(_ role: String, perm: [Int]) throws -> String {
                let projected = try dense(x, a + "/" + role, from: width, to: width, layer: block)
                let split = try node(a + "/" + role + "_heads", .reshape([steps, heads, size]), [projected], layer: block)
                return try node(a + "/" + role + "_by_head", .transpose(perm), [split], layer: block)
            }
            let q = try node(a + "/query_scaled", .elementwise(.multiply), [try byHead("query", perm: [0, 2, 1, 3]), "attention_scale"], layer: block)
            let scores = try node(a + "/scores", .matMul(MatMul()), [q, try byHead("key", perm: [0, 2, 3, 1])], layer: block)
            let weights = try node(a + "/weights", .softmax(axis: 3), [scores], layer: block)
            let context = try node(a + "/context", .matMul(MatMul()), [weights, try byHead("value", perm: [0, 2, 1, 3])], layer: block)
            let merged = try node(a + "/heads", .reshape([steps, width]), [try node(a + "/context_steps", .transpose([0, 2, 1, 3]), [context], layer: block)], layer: block)
            let attended = try dense(merged, a + "/output", from: width, to: width, layer: block)
            x = try layerNorm(try node(block + "/residual1", .elementwise(.add), [x, attended], layer: block), block + "/norm1", layer: block)
            let hidden = try node(block + "/ffn1/relu", .activation(.relu), [try dense(x, block + "/ffn1", from: width, to: 2 * width, layer: block)], layer: block)
            let ffn = try dense(hidden, block + "/ffn2", from: 2 * width, to: width, layer: block)
            x = try layerNorm(try node(block + "/residual2", .elementwise(.add), [x, ffn], layer: block), block + "/norm2", layer: block)
        }
        let pooled = try node("mean", .reduceMean(ReduceMean(axes: [1], keepDims: false)), [x], layer: "mean")
        _ = try dense(pooled, "logits", from: width, to: classes, layer: "logits")
        graph.outputs = [ValueInfo(name: "logits", shape: [dynamicBatch, classes])]
        return try TrainableModel(graph: graph, source: "student spec")
    }
}
