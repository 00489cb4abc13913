/// The blocks of one `[outer, inputs, inner]` kernel (see `PrunableKernel`) for block pruning.
///
/// Outputs run along `outer` for Conv OIHW (`inner` = kernel positions, one block per position)
/// and along `inner` for Dense K×M and recurrent kernels (`outer` = 1). A block is
/// `block.outputs` consecutive outputs × `block.inputs` consecutive inputs; blocks at the
/// edges are partial. Block ids are `0..<count`: output block slowest, then
/// input block, then position (the row-major order of a BSR matrix whose block rows are the
/// output blocks).
public struct BlockGrid: Sendable {
    /// The kernel's `[outer, inputs, inner]` view.
    public let outer: Int, inputs: Int, inner: Int
    /// Whether outputs run along `outer` (Conv) rather than `inner` (Dense, recurrent).
    public let outputsAlongOuter: Bool
    /// The block shape.
    public let block: PruningBlock

    /// The grid of `kernel` in blocks of `block`.
    public init(_ kernel: PrunableKernel, block: PruningBlock) {
        self.init(outer: kernel.outer, inputs: kernel.inputs, inner: kernel.inner, outputsAlongOuter: kernel.op == "Conv", block: block)
    }

    /// The grid of a kernel as a report lists it: `Conv` OIHW, or a rank-2 Dense / recurrent
    /// kernel with its inputs first; nil for any other shape.
    public init?(op: String, shape: [Int], block: PruningBlock) {
        switch (op, shape.count) {
        case ("Conv", 4): self.init(outer: shape[0], inputs: shape[1], inner: shape[2] * shape[3], outputsAlongOuter: true, block: block)
        case (_, 2) where op != "Conv": self.init(outer: 1, inputs: shape[0], inner: shape[1], outputsAlongOuter: false, block: block)
        default: return nil
        }
    }

    /// The grid of an `[outer, inputs, inner]` kernel.
    public init(outer: Int, inputs: Int, inner: Int, outputsAlongOuter: Bool, block: PruningBlock) {
        (self.outer, self.inputs, self.inner, self.outputsAlongOuter, self.block) = (outer, inputs, inner, outputsAlongOuter, block)
    }

    /// Output channels of the kernel.
    public var outputs: Int { outputsAlongOuter ? outer : inner }
    /// Independent positions: kernel positions (Conv) or the leading dimension (Dense, 1).
    public var positions: Int { outputsAlongOuter ? inner : outer }
    /// Blocks along the outputs, `⌈outputs / R⌉`.
    public var outputBlocks: Int { (outputs + block.outputs - 1) / block.outputs }
    /// Blocks along the inputs, `⌈inputs / C⌉`.
    public var inputBlocks: Int { (inputs + block.inputs - 1) / block.inputs }
    /// Number of blocks.
    public var count: Int { outputBlocks * inputBlocks * positions }

    /// Calls `body` with the flat row-major index of every weight of block `id`.
    @inline(__always)
    public func forEachIndex(ofBlock id: Int, _ body: (Int) -> Void) {
        let p = id % positions, rest = id / positions
        let bi = rest % inputBlocks, bo = rest / inputBlocks
        let o0 = bo * block.outputs, i0 = bi * block.inputs
        for o in o0..<min(outputs, o0 + block.outputs) {
            for i in i0..<min(inputs, i0 + block.inputs) {
                body(outputsAlongOuter ? (o * inputs + i) * inner + p : (p * inputs + i) * inner + o)
            }
        }
    }

    /// Mean `|w|` of each block (NaN counts as the largest magnitude), by block id.
    public func meanMagnitudes(_ weights: [Float]) -> [Float] {
        (0..<count).map { id in
            var sum: Float = 0, n: Float = 0
            forEachIndex(ofBlock: id) {
                sum += MagnitudeMask.magnitude(weights[$0]); n += 1
            }
            return sum / n
        }
    }

    /// Whether block `id` holds a nonzero weight of `weights`.
    public func isKept(_ id: Int, in weights: [Float]) -> Bool {
        var kept = false
        forEachIndex(ofBlock: id) { if weights[$0] != 0 { kept = true } }
        return kept
    }
}
