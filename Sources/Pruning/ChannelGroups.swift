import TensorCore

/// A Conv (group 1) or Linear node whose output channels may be deleted: its weight (and bias)
/// are initializers of its own.
public struct ChannelSource: Equatable, Sendable {
    /// Index of the node in the graph.
    public var index: Int
    /// The IR node.
    public var node: String
    /// Its source layer.
    public var layer: String
    /// `Conv` or `Linear`.
    public var op: String
    /// The weight initializer (Conv OIHW, Linear K×M).
    public var weight: String
    /// The bias initializer, if any.
    public var bias: String?
    /// The weight axis holding output channels: 0 for Conv OIHW, 1 for Linear K×M.
    public var weightAxis: Int
    /// The output value's channel axis (1 for Conv NCHW, the last axis for Linear).
    public var outputAxis: Int
    /// Number of output channels.
    public var channels: Int
}

/// Sources whose channels must be pruned together (they meet at an elementwise op such as a
/// residual Add), and whether they can be pruned at all.
public struct ChannelGroup: Equatable, Sendable {
    /// Indices into `ChannelGroups.sources`, in node order.
    public var members: [Int]
    /// Why the group's channels cannot be removed, or nil.
    public var reason: String?
}

/// The channel-dependency analysis of a float graph: which Conv/Linear outputs can lose
/// channels, which of them are tied together, and why the others cannot (see docs/pruning.md,
/// "Channel pruning"). Values are followed in node order, each carrying the channel space it
/// holds and on which axis: BatchNorm, activations, PRelu, pooling, Pad/Slice/Upsample that
/// leave the channel axis alone, Transpose (the axis moves) and depthwise convs pass channels
/// through; Flatten and Concat along the channel axis turn them into a derived index set (only
/// consumers may read it); elementwise ops tie their inputs' spaces into one group; Conv/Linear
/// readers are the consumers whose input slices are deleted.
public struct ChannelGroups: Sendable {
    /// Every candidate source, in node order.
    public var sources: [ChannelSource]
    /// The groups, ordered by their first member.
    public var groups: [ChannelGroup]
    /// Conv/Linear nodes that are not sources, with the reason.
    public var unprunable: [(node: String, layer: String, reason: String)]
    /// Group index of each source.
    public var groupOf: [Int]

    /// The channel space a value carries.
    enum Tag: Equatable {
        /// The channels of source `id` (after union) along `axis`, index for index.
        case space(Int, axis: Int)
        /// A mix (flattened, concatenated or multiplied) of the channels of `ids` along `axis`.
        case derived(Set<Int>, axis: Int)

        var axis: Int {
            switch self {
            case .space(_, let a), .derived(_, let a): return a
            }
        }
        var ids: Set<Int> {
            switch self {
            case .space(let id, _): return [id];
            case .derived(let ids, _): return ids
            }
        }
    }

    /// Analyses `graph` (float, after the export passes).
    public init(_ graph: Graph) {
        var readCount: [String: Int] = [:]
        for node in graph.nodes { for v in node.inputs { readCount[v, default: 0] += 1 } }
        func ownConstant(_ name: String) -> Bool { graph.initializers[name] != nil && readCount[name] == 1 }

        var sources: [ChannelSource] = []
        var unprunable: [(node: String, layer: String, reason: String)] = []
        var sourceAt: [Int: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            let rule = node.op.definition.channelRule(inputs: node.inputs.map { graph.shapes[$0] ?? [] })
            let produces: Int, outputAxis: Int
            switch rule {
            case .filters(_, let p, _, let o):
                (produces, outputAxis) = (p, o)
            case .grouped(let groups):
                unprunable.append((node.name, node.layer, "grouped/depthwise conv (group \(groups)): its channels follow its input's"))
                continue
            case .passThrough, .flattens, .permutes, .concatenates, .ties, .refuses:
                continue
            }
            let weight = node.inputs.count >= 2 ? node.inputs[1] : ""
            let bias = node.bias
            guard ownConstant(weight), bias.map(ownConstant) ?? true, let w = graph.initializers[weight],
                produces < w.rank, let out = graph.shapes[node.output]
            else {
                unprunable.append((node.name, node.layer, "weight or bias is not a constant of its own"))
                continue
            }
            sourceAt[i] = sources.count
            sources.append(
                ChannelSource(
                    index: i, node: node.name, layer: node.layer, op: node.op.name,
                    weight: weight, bias: bias, weightAxis: produces,
                    outputAxis: outputAxis < 0 ? out.count + outputAxis : outputAxis, channels: w.shape[produces]))
        }

        var parent = Array(sources.indices)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        var failure: [Int: String] = [:]
        var consumed = Set<Int>()
        var tag: [String: Tag] = [:]

        for (i, node) in graph.nodes.enumerated() {
            let tagged = node.inputs.enumerated().compactMap { slot, v in tag[v].map { (slot: slot, value: v, tag: $0) } }
            var out: Tag?
            if !tagged.isEmpty {
                func fail(_ reason: String) -> Tag? {
                    let reason =
                        graph.outputs.contains { $0.name == node.output }
                        ? "their channels reach the model output '\(node.output)' (through \(node.op.name))" : reason
                    for t in tagged { for id in t.tag.ids where failure[id] == nil { failure[id] = reason } }
                    return nil
                }
                let first = tagged[0]
                let rank = graph.shapes[first.value]?.count ?? 0
                let only = tagged.count == 1 && first.slot == 0
                let what = "\(node.op.name) '\(node.name)'"
                let shapes = node.inputs.map { graph.shapes[$0] ?? [] }
                switch node.op.definition.channelRule(inputs: shapes) {
                case .filters(_, _, let inputAxis, _):
                    let axis = inputAxis < 0 ? rank + inputAxis : inputAxis
                    if only, first.tag.axis == axis, ownConstant(node.inputs[1]) {
                        consumed.formUnion(first.tag.ids)
                    } else {
                        out = fail("\(what) reads them other than as its input \(inputAxis == 1 ? "channels" : "features")")
                    }
                case .grouped(let groups):
                    guard only, first.tag.axis == 1, ownConstant(node.inputs[1]) else {
                        out = fail("\(what) reads them other than as its input channels"); break
                    }
                    if let x = graph.shapes[first.value], groups == x[1], let o = graph.shapes[node.output], node.bias.map(ownConstant) ?? true {
                        out = o[1] == x[1] ? first.tag : .derived(first.tag.ids, axis: 1)
                    } else {
                        out = fail("grouped conv \(what) (group \(groups)) mixes channels within groups")
                    }
                case .passThrough(let blocked, let perChannel, let reason):
                    let constants = perChannel.allSatisfy { !$0.mustBeConstant || ($0.input < node.inputs.count && graph.initializers[node.inputs[$0.input]] != nil) }
                    out = only && !blocked.blocks(first.tag.axis, rank: rank) && constants ? first.tag : fail("\(what) \(reason)")
                case .flattens:
                    out = rank == 2 ? first.tag : .derived(first.tag.ids, axis: 1)
                case .permutes(let perm):
                    if let axis = perm.firstIndex(of: first.tag.axis) {
                        switch first.tag {
                        case .space(let id, _): out = .space(id, axis: axis)
                        case .derived(let ids, _): out = .derived(ids, axis: axis)
                        }
                    } else {
                        out = fail("\(what) has an invalid permutation")
                    }
                case .concatenates(let axis):
                    out =
                        tagged.allSatisfy({ $0.tag.axis == axis })
                        ? .derived(tagged.reduce(into: Set<Int>()) { $0.formUnion($1.tag.ids) }, axis: axis)
                        : fail("\(what) concatenates along another axis")
                case .ties:
                    let outRank = graph.shapes[node.output]?.count ?? 0
                    var aligned: Int?
                    var ids: [Int] = []
                    var reason: String?
                    for t in tagged {
                        let r = graph.shapes[t.value]?.count ?? 0
                        let a = t.tag.axis + outRank - r
                        guard case .space(let id, _) = t.tag else {
                            reason = "\(what) combines flattened or concatenated channels"; break
                        }
                        if aligned == nil { aligned = a } else if aligned != a { reason = "\(what) combines them along different axes" }
                        ids.append(id)
                    }
                    if reason == nil, let aligned {
                        let d = graph.shapes[node.output]?[aligned] ?? 0
                        for (slot, v) in node.inputs.enumerated() where tag[v] == nil {
                            let s = graph.shapes[v] ?? []
                            let idx = aligned - (outRank - s.count)
                            if idx < 0 || s[idx] == 1 { continue }
                            if graph.initializers[v] == nil || s[idx] != d {
                                reason = "\(what) combines them with '\(v)' (input \(slot)), which no prunable layer produces"
                            }
                        }
                    }
                    if let reason {
                        out = fail(reason)
                    } else if let aligned {
                        let root = find(ids[0])
                        for id in ids.dropFirst() { parent[find(id)] = root }
                        out = .space(root, axis: aligned)
                    }
                case .refuses(let reason):
                    out = fail("\(what) \(reason)")
                }
            }
            if let s = sourceAt[i] {
                tag[node.output] = .space(s, axis: sources[s].outputAxis)
            } else if let out {
                for output in node.outputs { tag[output] = out }
            }
        }
        for output in graph.outputs {
            if let t = tag[output.name] {
                for id in t.ids { failure[id] = "their channels reach the model output '\(output.name)'" }
            }
        }

        var groupOfRoot: [Int: Int] = [:]
        var groups: [ChannelGroup] = []
        var groupOf: [Int] = []
        for s in sources.indices {
            let root = find(s)
            if let g = groupOfRoot[root] {
                groups[g].members.append(s)
                groupOf.append(g)
            } else {
                groupOfRoot[root] = groups.count
                groupOf.append(groups.count)
                groups.append(ChannelGroup(members: [s], reason: nil))
            }
        }
        for g in groups.indices {
            let members = groups[g].members
            if let f = members.lazy.compactMap({ failure[$0] }).first {
                groups[g].reason = f
            } else if !members.contains(where: { consumed.contains($0) }) && !consumedAfterUnion(members, consumed, find) {
                groups[g].reason = "no Conv/Linear reads their channels"
            } else if Set(members.map { sources[$0].channels }).count > 1 {
                groups[g].reason = "the tied layers have different channel counts"
            }
        }
        self.sources = sources
        self.groups = groups
        self.unprunable = unprunable
        self.groupOf = groupOf
    }
}

/// Whether any consumer recorded an id whose root is one of `members`' root.
private func consumedAfterUnion(_ members: [Int], _ consumed: Set<Int>, _ find: (Int) -> Int) -> Bool {
    guard let m = members.first else { return false }
    let root = find(m)
    return consumed.contains { find($0) == root }
}
