import TensorCore

extension Graph {
    /// This graph's inputs, outputs and metadata around `nodes`, built again node by node so
    /// every shape is inferred anew (after weights were sliced); of `initializers`, those the
    /// nodes read, in name order.
    func rebuilt(nodes: [Node], initializers: [String: Tensor]) throws -> Graph {
        var g = Graph(name: name)
        g.metadata = metadata
        for input in inputs { try g.addInput(input) }
        let read = Set(nodes.flatMap(\.inputs))
        for (name, tensor) in initializers.sorted(by: { $0.key < $1.key }) where read.contains(name) { try g.addInitializer(name, tensor) }
        for node in nodes { try g.append(node) }
        g.outputs = outputs
        return g
    }
}
