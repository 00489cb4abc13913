import TensorCore

/// An attention block whose heads can be removed, found in the graph IR as Keras's
/// MultiHeadAttention and `torch.onnx.export`ed encoders write it: `linear` projections of
/// queries, keys and values (`H` blocks of columns), each reshaped to split off a heads axis
/// and transposed to N×H×…; `matMul(Q, Kᵀ)`; elementwise scaling and masks, `softmax`;
/// `matMul` with V; transposed and reshaped back to N×L×H·dv; an output `linear` (`H` blocks of
/// rows). Every value in between is read once, and no mask varies along the heads.
struct AttentionHeads: Sendable {
    /// Heads `H`, and the size of each head's query / key block and value block.
    let heads: Int, keySize: Int, valueSize: Int
    /// Node indices of the query, key, value and output projections.
    let query: Int, key: Int, value: Int, output: Int
    /// Reshape nodes that name the head count, with the axis of their per-sample target that
    /// holds it (`split`: `H`; `merge`: `H·dv` on the last axis).
    let reshapes: [(node: Int, axis: Int, merge: Bool)]

    /// Every prunable attention block of `graph`, in node order of their value products.
    static func find(in graph: Graph) -> [AttentionHeads] {
        let finder = Finder(graph)
        return graph.nodes.indices.compactMap { i in
            guard case .matMul = graph.nodes[i].op else { return nil }
            return finder.block(context: i)
        }
    }

    /// Walks the graph around one `matMul(A, V)`.
    private struct Finder {
        let graph: Graph
        var producer: [String: Int] = [:]
        var readers: [String: Int] = [:]

        init(_ graph: Graph) {
            self.graph = graph
            for (i, node) in graph.nodes.enumerated() {
                for output in node.outputs { producer[output] = i }
                for input in node.inputs { readers[input, default: 0] += 1 }
            }
        }

        func shape(_ value: String) -> [Int] { graph.shapes[value] ?? [] }

        /// Whether `value` is read by one node and is no graph output.
        func readOnce(_ value: String) -> Bool { readers[value] == 1 && !graph.outputs.contains { $0.name == value } }

        /// The block whose value product is node `context`, or nil when it does not have that form.
        func block(context: Int) -> AttentionHeads? {
            let node = graph.nodes[context]
            guard node.inputs.count == 2, shape(node.inputs[1]).count == 4, let heads = shape(node.inputs[1])[safe: 1], heads >= 2,
                let value = projection(node.inputs[1], headAxis: 1, heads: heads),
                let scores = scoresProduct(node.inputs[0]),
                let query = projection(graph.nodes[scores].inputs[0], headAxis: 1, heads: heads),
                let key = projection(graph.nodes[scores].inputs[1], headAxis: 1, heads: heads),
                query.size == key.size, let output = outputProjection(node.output, heads: heads, valueSize: value.size)
            else { return nil }
            return AttentionHeads(
                heads: heads, keySize: query.size, valueSize: value.size, query: query.linear, key: key.linear, value: value.linear,
                output: output.linear, reshapes: query.reshapes + key.reshapes + value.reshapes + output.reshapes)
        }

        /// Back from one operand of a product (heads on `headAxis`) through transposes, scalar
        /// scaling and reshapes that keep the shape, to the reshape that splits `H` heads off the
        /// last axis of a `linear`'s output.
        func projection(_ start: String, headAxis: Int, heads: Int) -> (linear: Int, size: Int, reshapes: [(node: Int, axis: Int, merge: Bool)])? {
            var value = start, axis = headAxis, reshapes: [(node: Int, axis: Int, merge: Bool)] = []
            while readOnce(value), let p = producer[value] {
                let node = graph.nodes[p]
                if case .transpose(let t) = node.op {
                    axis = t.perm[axis]
                } else if case .elementwise = node.op {
                    guard let input = soleActivation(node) else { return nil }
                    value = input
                    continue
                } else if case .reshape = node.op {
                    let input = shape(node.inputs[0]), output = shape(node.output)
                    guard input != output else {
                        reshapes.append((p, axis - 1, false))
                        value = node.inputs[0]
                        continue
                    }
                    guard output.count >= 3, axis == output.count - 2, output[axis] == heads, input.dropLast() == output.dropLast(2),
                        input.last == heads * output[output.count - 1], readOnce(node.inputs[0]), let l = producer[node.inputs[0]],
                        case .linear = graph.nodes[l].op, graph.initializers[graph.nodes[l].inputs[1]]?.shape.last == input.last
                    else { return nil }
                    return (l, output[output.count - 1], reshapes + [(p, axis - 1, false)])
                } else if !isIdentity(node.op) {
                    return nil
                }
                value = node.inputs[0]
            }
            return nil
        }

        /// Back from the attention weights to `matMul(Q, Kᵀ)` through `softmax` (not over the
        /// heads), scaling and masks that broadcast over the heads.
        func scoresProduct(_ start: String) -> Int? {
            var value = start
            while readOnce(value), let p = producer[value] {
                let node = graph.nodes[p]
                if case .matMul = node.op { return p }
                if case .softmax(let s) = node.op, s.axis != 1 {
                    value = node.inputs[0]
                } else if case .elementwise = node.op {
                    // The scores (heads on axis 1) and operands that are the same for every head.
                    let rank = shape(node.output).count
                    let operands = node.inputs.filter { v in
                        let s = shape(v)
                        return s.count == rank && s[1] != 1
                    }
                    guard operands.count == 1 else { return nil }
                    value = operands[0]
                } else if isIdentity(node.op) {
                    value = node.inputs[0]
                } else {
                    return nil
                }
            }
            return nil
        }

        /// Forward from the value product N×H×L×dv to the output `linear` reading N×L×H·dv.
        func outputProjection(_ start: String, heads: Int, valueSize: Int) -> (linear: Int, reshapes: [(node: Int, axis: Int, merge: Bool)])? {
            var value = start, axis = 1, reshapes: [(node: Int, axis: Int, merge: Bool)] = []
            while readOnce(value), let r = graph.nodes.firstIndex(where: { $0.inputs.contains(value) }) {
                let node = graph.nodes[r]
                if case .transpose(let t) = node.op {
                    guard let moved = t.perm.firstIndex(of: axis) else { return nil }
                    axis = moved
                } else if case .reshape = node.op {
                    let input = shape(node.inputs[0]), output = shape(node.output)
                    if input == output {
                        reshapes.append((r, axis - 1, false))
                    } else {
                        guard input.count >= 3, axis == input.count - 2, input.last == valueSize, input.dropLast(2) == output.dropLast(),
                            output.last == heads * valueSize, readOnce(node.output),
                            let l = graph.nodes.firstIndex(where: { $0.inputs.first == node.output }), case .linear = graph.nodes[l].op,
                            graph.initializers[graph.nodes[l].inputs[1]]?.shape.first == heads * valueSize
                        else { return nil }
                        return (l, reshapes + [(r, output.count - 2, true)])
                    }
                } else if !isIdentity(node.op) {
                    return nil
                }
                value = node.output
            }
            return nil
        }

        /// Whether `op` passes its input through unchanged.
        func isIdentity(_ op: Op) -> Bool {
            if case .identity = op { return true }
            return false
        }

        /// The one input of an elementwise node that is not a one-element constant.
        func soleActivation(_ node: Node) -> String? {
            let others = node.inputs.filter { graph.initializers[$0]?.count != 1 }
            return others.count == 1 ? others[0] : nil
        }
    }
}

extension Array {
    /// The element at `index`, or nil when out of range.
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
