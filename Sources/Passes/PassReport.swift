import TensorCore

/// What one pass did to a graph: the rewrites it made and the candidates it left alone, with why.
public struct PassReport: Equatable, Sendable {
    /// A candidate the pass did not rewrite.
    public struct Skip: Equatable, Sendable {
        /// The node left as it was.
        public var node: String
        /// Why it was left (for reports and `--verbose` output).
        public var reason: String

        /// A skipped node and the reason.
        public init(node: String, reason: String) {
            self.node = node
            self.reason = reason
        }
    }

    /// The pass's name, e.g. `fold-batchnorm`.
    public var pass: String
    /// One line per rewrite, naming the nodes involved.
    public var changed: [String] = []
    /// Candidates that were not rewritten.
    public var skipped: [Skip] = []

    /// An empty report for `pass`.
    public init(pass: String) {
        self.pass = pass
    }
}

/// A `Graph → Graph` rewrite that reports what it changed.
public protocol GraphPass: Sendable {
    /// The pass's name in reports.
    var name: String { get }
    /// The rewritten graph and the report; `graph` itself is not modified.
    func run(_ graph: Graph) throws -> (Graph, PassReport)
}

/// Runs passes in order, collecting their reports. A quantized graph (one with
/// `Graph.quantization` annotations) is returned unchanged: its weights and value names are
/// what the annotations describe, and the float rewrites would invalidate them.
public func runPasses(_ passes: [any GraphPass], on graph: Graph) throws -> (Graph, [PassReport]) {
    guard graph.quantization.isEmpty else { return (graph, []) }
    var g = graph
    var reports: [PassReport] = []
    for pass in passes {
        let (next, report) = try pass.run(g)
        g = next
        reports.append(report)
    }
    return (g, reports)
}

/// The passes `modelpress export` runs before writing ONNX, in order.
public let exportPasses: [any GraphPass] = [DropIdentities(), FoldPadIntoConv(), FoldBatchNorm(), FoldChannelsLastFlatten()]
