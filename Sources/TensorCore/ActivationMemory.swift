/// The activation memory one sample needs when a graph runs node by node in its order: the
/// largest total of values alive at once (a value lives from the node that writes it, or the
/// start for graph inputs, to its last reader; graph outputs to the end). It is the arena an
/// edge runtime must reserve at the least, next to the weights; a runtime that also runs
/// elementwise ops in place can need less, one that fragments its arena more.
public struct ActivationMemory: Equatable, Sendable {
    /// Bytes alive at the peak, per sample (each value in the type the file stores it in:
    /// int8 / int16 when quantized, 2 bytes when float16, else 4).
    public var peakBytes: Int
    /// The node running at the peak (empty when the graph has no node).
    public var peakNode: String
    /// Bytes of every activation added up, per sample: the memory without any reuse.
    public var totalBytes: Int
}

extension Graph {
    /// The activation memory per sample of running the nodes in order (see `ActivationMemory`).
    public func activationMemory() -> ActivationMemory {
        func bytes(_ name: String) -> Int {
            guard initializers[name] == nil, let shape = shapes[name], !shape.isEmpty else { return 0 }
            return shape.dropFirst().reduce(1) { $0 * max($1, 0) } * storedBits(of: name) / 8
        }
        let lastUse = lastReaders()
        var live = 0, total = 0
        var peak = ActivationMemory(peakBytes: 0, peakNode: "", totalBytes: 0)
        for input in inputs { live += bytes(input.name) }
        total = live
        for (index, node) in nodes.enumerated() {
            let written = node.outputs.reduce(0) { $0 + bytes($1) }
            live += written
            total += written
            if live > peak.peakBytes { peak = ActivationMemory(peakBytes: live, peakNode: node.name, totalBytes: 0) }
            // Values whose last reader is this node (or that nobody reads) are freed after it.
            for name in Set(node.inputs + node.outputs) where (lastUse[name] ?? index) <= index { live -= bytes(name) }
        }
        peak.totalBytes = total
        return peak
    }
}
