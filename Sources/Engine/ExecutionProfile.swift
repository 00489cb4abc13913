import TensorCore

/// Wall time per op kind, accumulated over executor runs (`modelpress bench --profile`).
public final class ExecutionProfile {
    /// Accumulated nanoseconds and calls by op name.
    public private(set) var entries: [String: (nanoseconds: UInt64, calls: Int)] = [:]

    /// An empty profile.
    public init() {}

    /// Forgets everything recorded so far (e.g. warm-up runs).
    public func reset() { entries = [:] }

    func record(_ op: Op, nanoseconds: UInt64) {
        let key = op.profileKey
        let e = entries[key] ?? (0, 0)
        entries[key] = (e.nanoseconds + nanoseconds, e.calls + 1)
    }

    /// Entries sorted by time, largest first.
    public var sorted: [(op: String, seconds: Double, calls: Int)] {
        entries.map { ($0.key, Double($0.value.nanoseconds) / 1e9, $0.value.calls) }.sorted { $0.seconds > $1.seconds }
    }
}

extension Op {
    /// Profile bucket: op name, with 1×1 / depthwise / k×k convolutions apart.
    var profileKey: String {
        guard case .conv2D(let a) = self else { return name }
        if a.group > 1 { return "Conv depthwise/grouped" }
        return a.kernel == .one && a.strides == .one ? "Conv 1×1" : "Conv \(a.kernel.height)×\(a.kernel.width)"
    }
}
