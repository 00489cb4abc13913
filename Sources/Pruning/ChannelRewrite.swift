import TensorCore

/// Physically removes channels: given the kept output channels of some sources, walks the
/// nodes in order, slicing every weight that touches a removed channel, and rebuilds the
/// graph so shapes are inferred anew. Mirrors the rules of `ChannelGroups`, which has already
/// refused every case this cannot follow.
enum ChannelRewrite {
    /// Kept indices along one axis of a value (original numbering, ascending).
    struct Kept {
        var axis: Int
        var keep: [Int]
    }

    static func apply(_ graph: Graph, sources: [ChannelSource], keep keepBySource: [Int: [Int]]) throws -> Graph {
        guard !keepBySource.isEmpty else { return graph }
        var readCount: [String: Int] = [:]
        for node in graph.nodes { for v in node.inputs { readCount[v, default: 0] += 1 } }
        var initializers = graph.initializers
        var taken = Set(graph.shapes.keys)
        let sourceAt = Dictionary(sources.enumerated().map { ($1.index, $0) }, uniquingKeysWith: { a, _ in a })

        /// Slices initializer `name` along `axis`; a constant read elsewhere too is copied under a new name.
        func slice(_ name: String, axis: Int, _ keep: [Int]) throws -> String {
            guard let t = initializers[name] else { throw ModelPressError.internalError("channel pruning: '\(name)' is not a constant") }
            let sliced = try ChannelSlicing.keep(t, axis: axis, keep)
            if readCount[name] == 1 {
                initializers[name] = sliced
                return name
            }
            var fresh = "\(name)/pruned"
            var i = 1
            while taken.contains(fresh) { fresh = "\(name)/pruned_\(i)"; i += 1 }
            taken.insert(fresh)
            initializers[fresh] = sliced
            return fresh
        }

        var kept: [String: Kept] = [:]
        var nodes = graph.nodes
        for i in nodes.indices {
            var node = nodes[i]
            let tagged = node.inputs.enumerated().compactMap { slot, v in kept[v].map { (slot: slot, value: v, kept: $0) } }
            var out: Kept?
            if let first = tagged.first {
                let shape = graph.shapes[first.value] ?? []
                let k = first.kept
                switch node.op.definition.channelRule(inputs: node.inputs.map { graph.shapes[$0] ?? [] }) {
                case .filters(let consumes, _, _, _):
                    node.inputs[1] = try slice(node.inputs[1], axis: consumes, k.keep)
                case .grouped:
                    // Depthwise: each kept input channel keeps its `multiplier` filters, and the
                    // group count follows the channel count.
                    let multiplier = (graph.shapes[node.output]?[1] ?? 0) / max(1, shape[1])
                    let outKeep = k.keep.flatMap { c in (c * multiplier)..<(c * multiplier + multiplier) }
                    node.inputs[1] = try slice(node.inputs[1], axis: 0, outKeep)
                    if node.inputs.count > 2 { node.inputs[2] = try slice(node.inputs[2], axis: 0, outKeep) }
                    if case .conv2D(var a) = node.op {
                        a.group = k.keep.count
                        node.op = .conv2D(a)
                    }
                    out = Kept(axis: 1, keep: outKeep)
                case .passThrough(_, let perChannel, _):
                    for p in perChannel where p.input < node.inputs.count {
                        let parameter = graph.shapes[node.inputs[p.input]] ?? []
                        let idx = p.axis ?? (k.axis - (shape.count - parameter.count))
                        if idx >= 0, idx < parameter.count, p.axis != nil || parameter[idx] != 1 {
                            node.inputs[p.input] = try slice(node.inputs[p.input], axis: idx, k.keep)
                        }
                    }
                    // A crop that keeps the channel axis whole ends at its new extent.
                    if case .slice(var crop) = node.op {
                        crop.end[k.axis] = k.keep.count
                        node.op = .slice(crop)
                    }
                    out = k
                case .flattens:
                    let flat = shape.count == 2 ? k : Kept(axis: 1, keep: ChannelSlicing.flatKeep(dims: Array(shape.dropFirst()), axis: k.axis - 1, k.keep))
                    if case .reshape = node.op { node.op = .reshape([flat.keep.count]) }
                    out = flat
                case .permutes(let perm):
                    guard let axis = perm.firstIndex(of: k.axis) else { throw ModelPressError.internalError("channel pruning: bad permutation") }
                    out = Kept(axis: axis, keep: k.keep)
                case .concatenates(let axis):
                    var offset = 0
                    var keep: [Int] = []
                    for v in node.inputs {
                        let d = graph.shapes[v]?[axis] ?? 0
                        keep += (kept[v]?.keep ?? Array(0..<d)).map { $0 + offset }
                        offset += d
                    }
                    out = Kept(axis: axis, keep: keep)
                case .ties:
                    let outRank = graph.shapes[node.output]?.count ?? 0
                    let aligned = k.axis + outRank - shape.count
                    for (j, v) in node.inputs.enumerated() where kept[v] == nil && initializers[v] != nil {
                        let s = graph.shapes[v] ?? []
                        let idx = aligned - (outRank - s.count)
                        if idx >= 0, s[idx] != 1 { node.inputs[j] = try slice(v, axis: idx, k.keep) }
                    }
                    out = Kept(axis: aligned, keep: k.keep)
                case .refuses(let reason):
                    throw ModelPressError.internalError("channel pruning reached '\(node.name)', which refuses channels: \(reason)")
                }
            }
            if let s = sourceAt[i], let keep = keepBySource[s] {
                let src = sources[s]
                node.inputs[1] = try slice(src.weight, axis: src.weightAxis, keep)
                if let bias = src.bias { node.inputs[2] = try slice(bias, axis: 0, keep) }
                out = Kept(axis: src.outputAxis, keep: keep)
            } else if sourceAt[i] != nil {
                out = nil
            }
            if let out { for output in node.outputs { kept[output] = out } }
            nodes[i] = node
        }
        return try graph.rebuilt(nodes: nodes, initializers: initializers)
    }
}
