extension Graph {
    /// For each activation (graph input or node output; initializers left out), the index of
    /// the last node that reads it; graph outputs count as read at `nodes.count` (kept to the end).
    public func lastReaders() -> [String: Int] {
        var last: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for input in node.inputs where initializers[input] == nil { last[input] = index }
        }
        for output in outputs { last[output.name] = nodes.count }
        return last
    }
}
