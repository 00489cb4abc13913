/// The index-level algorithms of magnitude pruning, on flat row-major weight arrays.
///
/// Ranking: weights are ordered by `(|w|, index)` ascending — NaN counts as the largest
/// magnitude — and the lowest ranks are removed. Equal magnitudes are therefore removed in
/// index order, so the result is the same on every run and every machine.
public enum MagnitudeMask {
    /// `|w|` with NaN ranked above every number.
    static func magnitude(_ w: Float) -> Float { w.isNaN ? .infinity : abs(w) }

    /// The number of weights removed from `count` at sparsity `s`: `round(s·count)`, halves away from zero.
    public static func prunedCount(sparsity: Double, count: Int) -> Int {
        min(count, max(0, Int((sparsity * Double(count)).rounded(.toNearestOrAwayFromZero))))
    }

    /// Indices of the `k` lowest-ranked weights of `weights`.
    public static func smallest(_ k: Int, of weights: [Float]) -> [Int] {
        guard k > 0 else { return [] }
        let order = weights.indices.sorted { a, b in
            let ma = magnitude(weights[a]), mb = magnitude(weights[b])
            return ma != mb ? ma < mb : a < b
        }
        return Array(order.prefix(k))
    }

    /// For `layers` of weights, the `k` lowest-ranked across all of them, as (layer, index)
    /// pairs; ties across layers go to the earlier layer.
    public static func globalSmallest(_ k: Int, of layers: [[Float]]) -> [(layer: Int, index: Int)] {
        guard k > 0 else { return [] }
        var all: [(m: Float, layer: Int, index: Int)] = []
        all.reserveCapacity(layers.reduce(0) { $0 + $1.count })
        for (l, weights) in layers.enumerated() {
            for (i, w) in weights.enumerated() { all.append((magnitude(w), l, i)) }
        }
        all.sort { a, b in
            if a.m != b.m { return a.m < b.m }
            return a.layer != b.layer ? a.layer < b.layer : a.index < b.index
        }
        return all.prefix(k).map { ($0.layer, $0.index) }
    }

    /// Indices removed by 2:4 pruning of a `[outer, inputs, inner]` array along `inputs`:
    /// for each `(o, j)`, inputs `4g…4g+3` form a group, and its 2 lowest-ranked weights are
    /// removed. Requires `inputs % 4 == 0`.
    public static func twoOfFour(_ weights: [Float], outer: Int, inputs: Int, inner: Int) -> [Int] {
        precondition(inputs % 4 == 0 && weights.count == outer * inputs * inner, "caller checks the shape")
        var removed: [Int] = []
        removed.reserveCapacity(weights.count / 2)
        for o in 0..<outer {
            for g in stride(from: 0, to: inputs, by: 4) {
                for j in 0..<inner {
                    let group = (g..<g + 4).map { (o * inputs + $0) * inner + j }
                    let ranked = group.sorted { a, b in
                        let ma = magnitude(weights[a]), mb = magnitude(weights[b])
                        return ma != mb ? ma < mb : a < b
                    }
                    removed.append(ranked[0])
                    removed.append(ranked[1])
                }
            }
        }
        return removed
    }
}

extension MagnitudeMask {
    /// Indices removed by block pruning of one kernel: its `round(s·blocks)` blocks of smallest
    /// mean `|w|`, ties in block order.
    public static func blocks(_ weights: [Float], grid: BlockGrid, sparsity: Double) -> [Int] {
        let ranked = smallest(prunedCount(sparsity: sparsity, count: grid.count), of: grid.meanMagnitudes(weights))
        return expand(ranked, grid)
    }

    /// For several kernels, the `round(s·B)` blocks of smallest mean `|w|` (with `lamp`: of
    /// smallest LAMP score of those means) among all `B` of their blocks (ties to the earlier
    /// kernel), as removed indices per kernel.
    public static func globalBlocks(_ kernels: [(weights: [Float], grid: BlockGrid)], sparsity: Double, lamp: Bool = false) -> [[Int]] {
        let scores = kernels.map { k in lamp ? lampScores(k.grid.meanMagnitudes(k.weights)) : k.grid.meanMagnitudes(k.weights) }
        let total = scores.reduce(0) { $0 + $1.count }
        var byKernel = Array(repeating: [Int](), count: kernels.count)
        for (l, id) in globalSmallest(prunedCount(sparsity: sparsity, count: total), of: scores) { byKernel[l].append(id) }
        return kernels.indices.map { expand(byKernel[$0], kernels[$0].grid) }
    }

    /// The weight indices of `blocks`.
    private static func expand(_ blocks: [Int], _ grid: BlockGrid) -> [Int] {
        var indices: [Int] = []
        indices.reserveCapacity(blocks.count * grid.block.outputs * grid.block.inputs)
        for id in blocks { grid.forEachIndex(ofBlock: id) { indices.append($0) } }
        return indices
    }
}

extension MagnitudeMask {
    /// LAMP scores of one layer's weights (Lee et al., "Layer-adaptive sparsity for the
    /// magnitude-based pruning", ICLR 2021): with the weights in ranking order (`|w|`, then index),
    /// weight `u` scores `w_u² / Σ_{v ranked ≥ u} w_v²`. The score does not change when the layer
    /// is scaled, and the layer's largest weight scores 1, so one threshold over all layers'
    /// scores never empties a layer. NaN or infinite weights score +∞ (never removed first).
    public static func lampScores(_ weights: [Float]) -> [Float] {
        let order = weights.indices.sorted { a, b in
            let ma = magnitude(weights[a]), mb = magnitude(weights[b])
            return ma != mb ? ma < mb : a < b
        }
        var scores = [Float](repeating: .infinity, count: weights.count)
        var tail = 0.0
        for i in order.reversed() {
            let m = Double(magnitude(weights[i]))
            guard m.isFinite else { continue }
            tail += m * m
            scores[i] = tail > 0 ? Float(m * m / tail) : 1
        }
        return scores
    }
}
