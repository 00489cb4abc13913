import TensorCore

/// Small queries and edits the passes share: who reads a value, rewiring readers, cleaning up.
extension Graph {
    /// Indices of the nodes that read `value`, in node order.
    func readers(of value: String) -> [Int] {
        nodes.indices.filter { nodes[$0].inputs.contains(value) }
    }

    /// The index of the node that writes `value`, if a node does.
    func producer(of value: String) -> Int? {
        nodes.firstIndex { $0.output == value }
    }

    /// Whether `value` is one of the graph outputs.
    func isOutput(_ value: String) -> Bool {
        outputs.contains { $0.name == value }
    }

    /// Makes every node that reads `old` read `new` instead.
    mutating func replaceReads(of old: String, with new: String) {
        for i in nodes.indices {
            for j in nodes[i].inputs.indices where nodes[i].inputs[j] == old { nodes[i].inputs[j] = new }
        }
    }

    /// Removes the nodes at `indices` and forgets the shapes of their outputs.
    mutating func removeNodes(_ indices: Set<Int>) {
        let kept = nodes.indices.filter { !indices.contains($0) }.map { nodes[$0] }
        let written = Set(kept.map(\.output))
        for i in indices where !written.contains(nodes[i].output) { shapes[nodes[i].output] = nil }
        nodes = kept
    }

    /// Drops initializers no node reads any more.
    mutating func removeUnreadInitializers() {
        var read = Set<String>()
        for node in nodes { read.formUnion(node.inputs) }
        for name in initializers.keys where !read.contains(name) {
            initializers[name] = nil
            shapes[name] = nil
        }
    }

    /// How many node inputs (over all nodes) name `value`.
    func readCount(of value: String) -> Int {
        nodes.reduce(0) { $0 + $1.inputs.filter { $0 == value }.count }
    }
}
