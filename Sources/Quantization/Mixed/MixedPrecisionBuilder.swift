import TensorCore

/// Builds the graph of a `PrecisionPlan`: int8 and int16 layers quantized statically (QDQ), float16
/// layers and the nodes after them whose inputs are all float16 in float16, the rest float32.
/// A value that is both float16 and quantized (a float16 layer feeding an int8 one) is written
/// in float16 and copied to float32 by an Identity (the file's Cast), whose output is quantized.
public struct MixedPrecisionBuilder: Sendable {
    /// The float graph, prepared for inference.
    public let graph: Graph
    /// Calibration statistics of every value the all-int8 plan calibrates.
    public let statistics: [String: ActivationStatistics]
    /// Static quantization settings (method, granularity, activation type).
    public let options: StaticQuantizationOptions
    /// Float16 settings (opset, inputs and outputs kept float32, headroom).
    public let halfPrecision: HalfPrecisionOptions
    /// The largest |value| calibration saw, by value name (float16's range check).
    public let ranges: [String: Float]

    /// The Conv / Dense layers a plan assigns (node, layer), in graph order.
    public var candidates: [(node: String, layer: String)] {
        QuantizationPlan(graph: graph, options: options).compute.map { (graph.nodes[$0.index].name, graph.nodes[$0.index].layer) }
    }

    /// A builder for `graph` with its calibration.
    public init(graph: Graph, statistics: [String: ActivationStatistics], options: StaticQuantizationOptions, halfPrecision: HalfPrecisionOptions) {
        self.graph = graph
        self.statistics = statistics
        self.options = options
        self.halfPrecision = halfPrecision
        ranges = statistics.mapValues { max(abs($0.minMax.min), abs($0.minMax.max)) }
    }

    /// The graph of `plan` and its float16 report rows.
    public func build(_ plan: PrecisionPlan) throws -> (graph: Graph, layers: [HalfPrecisionLayer]) {
        var o = options
        o.exclude.formUnion(plan.layers.filter { $0.value != .int8 && $0.value != .int16 }.map(\.key))
        o.sixteenBitLayers = Set(plan.layers.filter { $0.value == .int16 }.map(\.key))
        var g = graph
        if plan.layers.values.contains(where: { $0 == .int8 || $0 == .int16 }) {
            g = try StaticQuantizer.quantize(graph, plan: QuantizationPlan(graph: graph, options: o), statistics: statistics, options: o).0
        }
        var half = halfPrecision
        half.allowedNodes = float16Nodes(g, plan)
        half.form = .compute
        var (planned, layers) = try HalfPrecisionPlanner.plan(g, options: half, ranges: ranges)
        splitQuantizedHalfValues(&planned)
        return (planned, layers)
    }

    /// Nodes that may compute in float16: the plan's float16 layers, and in graph order every
    /// other node (no Conv / Dense of the plan) whose activation inputs all come from such nodes.
    func float16Nodes(_ g: Graph, _ plan: PrecisionPlan) -> Set<String> {
        var nodes = Set<String>(), values = Set<String>()
        for node in g.nodes {
            let activations = node.inputs.filter { g.initializers[$0] == nil }
            let allowed: Bool
            if let precision = plan.layers[node.name] {
                allowed = precision == .fp16
            } else {
                allowed = !activations.isEmpty && activations.allSatisfy(values.contains)
            }
            if allowed {
                nodes.insert(node.name)
                values.formUnion(node.outputs)
            }
        }
        return nodes
    }

    /// Values both float16 and quantized: the producer writes `<v>/fp16`, an Identity copies it
    /// to `v` in float32, and `v` keeps its quantization (its readers read the quantized value).
    func splitQuantizedHalfValues(_ g: inout Graph) {
        for value in g.halfPrecision.intersection(g.quantization.keys).filter({ g.initializers[$0] == nil }).sorted() {
            guard let written = g.copyThroughIdentity(value, suffix: "/fp16", readersFollow: false) else { continue }
            g.halfPrecision.remove(value)
            g.halfPrecision.insert(written)
        }
    }
}
