extension Graph {
    /// Puts an Identity in front of `value`: its producer writes a new value named after
    /// `value` + `suffix` (returned) and the Identity copies that to `value`, so the copy can
    /// change the value's precision (a Cast in the file). With `readersFollow`, nodes after the
    /// producer read the new value too; otherwise they keep reading `value`. Nil when no node writes it.
    public mutating func copyThroughIdentity(_ value: String, suffix: String, readersFollow: Bool) -> String? {
        guard let p = nodes.firstIndex(where: { $0.outputs.contains(value) }) else { return nil }
        let written = uniqueName(value + suffix)
        shapes[written] = shapes[value]
        nodes[p].outputs = nodes[p].outputs.map { $0 == value ? written : $0 }
        if readersFollow {
            for i in nodes.indices where i > p { nodes[i].inputs = nodes[i].inputs.map { $0 == value ? written : $0 } }
        }
        let copy = Node(name: uniqueName(value + "/fp32"), op: .identity(Identity()), inputs: [written], output: value, layer: nodes[p].layer)
        nodes.insert(copy, at: p + 1)
        return written
    }
}
