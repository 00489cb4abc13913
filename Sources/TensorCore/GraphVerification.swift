extension Graph {
    /// Checks the graph's invariants: every value is defined once before it is read, node
    /// inputs fit their op's signature, recorded shapes agree with shape inference, every
    /// output is defined. Throws `internalError` naming the first violation (a pass that
    /// breaks the graph is a bug). Tests run it after every pass.
    public func verify() throws {
        func broken(_ message: String) -> ModelPressError { .internalError("graph '\(name)': \(message)") }
        var defined = Set<String>()
        for input in inputs {
            guard defined.insert(input.name).inserted else { throw broken("input '\(input.name)' is defined twice") }
            guard shapes[input.name] == input.shape else { throw broken("input '\(input.name)' has shape \(input.shape), recorded \(shapes[input.name] ?? [])") }
        }
        for (name, tensor) in initializers {
            guard defined.insert(name).inserted else { throw broken("initializer '\(name)' is also an input") }
            guard shapes[name] == tensor.shape else { throw broken("initializer '\(name)' has shape \(tensor.shape), recorded \(shapes[name] ?? [])") }
        }
        var names = Set<String>()
        for node in nodes {
            guard names.insert(node.name).inserted else { throw broken("node name '\(node.name)' is used twice") }
            var inputShapes: [[Int]] = []
            for input in node.inputs {
                guard defined.contains(input), let shape = shapes[input] else {
                    throw broken("node '\(node.name)' reads '\(input)' before it is defined")
                }
                inputShapes.append(shape)
            }
            let inferred = try ShapeInference.outputShapes(of: node.op, inputs: inputShapes, node: node.name)
            guard inferred.count == node.outputs.count else {
                throw broken("node '\(node.name)' names \(node.outputs.count) outputs; \(node.op.name) writes \(inferred.count)")
            }
            for (output, shape) in zip(node.outputs, inferred) {
                guard defined.insert(output).inserted else { throw broken("value '\(output)' is defined twice") }
                guard shapes[output] == shape else {
                    throw broken("node '\(node.name)' output '\(output)' is recorded as \(shapes[output] ?? []), inferred \(shape)")
                }
            }
        }
        for output in outputs where !defined.contains(output.name) {
            throw broken("output '\(output.name)' is never defined")
        }
    }
}
