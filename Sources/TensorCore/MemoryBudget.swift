import Foundation

/// Memory this process may still take, and the limit that sets it.
public struct MemoryLimit: Equatable, Sendable {
    /// Bytes that can still be allocated before the limit is reached.
    public var availableBytes: Int
    /// What sets the limit, for messages (`cgroup memory.max`, `ulimit -v`, …).
    public var source: String
}

/// What a command does with a model's weights, and so how many times their float32 bytes it
/// holds at its peak (measured on the 3.4 GB wide MLP, docs/benchmarks.md "Past 2 GB").
public enum MemoryWork: String, Sendable {
    /// inspect / eval / predict / verify / bench: the weights once, plus activations and the
    /// engine's buffers (1.33× measured for float eval).
    case evaluate
    /// export / quantize: the weights and the bytes of the file written (2.0× / 1.5× measured).
    case rewrite
    /// prune / distill / fine-tuning: weights, gradients and two Adam moments.
    case train

    /// Peak bytes over the float32 weight bytes.
    var factor: Double {
        switch self {
        case .evaluate: 1.4
        case .rewrite: 2.1
        case .train: 4.5
        }
    }
}

/// Refuses work that cannot fit in the memory this process may use, before it starts, so a
/// model too large for the machine exits 2 with a message instead of being killed half-way.
/// The limit is the tightest of `MODELPRESS_MEMORY_LIMIT` (bytes, or with a K/M/G suffix), the
/// cgroup's `memory.max`, `ulimit -v` (RLIMIT_AS) and the host's MemAvailable.
/// `MODELPRESS_MEMORY_CHECK=0` turns the checks off.
public enum MemoryBudget {
    /// The tightest limit now, or nil when none can be read (or checks are off).
    public static func current() -> MemoryLimit? {
        let environment = ProcessInfo.processInfo.environment
        if environment["MODELPRESS_MEMORY_CHECK"] == "0" { return nil }
        var limits: [MemoryLimit] = []
        let resident = residentBytes() ?? 0
        if let text = environment["MODELPRESS_MEMORY_LIMIT"], let budget = parseBytes(text) {
            limits.append(MemoryLimit(availableBytes: budget - resident, source: "MODELPRESS_MEMORY_LIMIT=\(text)"))
        }
        if let cgroup = cgroupAvailable() { limits.append(cgroup) }
        if let limit = addressSpaceLimit, let size = statm(field: 0) {
            limits.append(MemoryLimit(availableBytes: limit - size, source: "ulimit -v (address space \(format(limit)))"))
        }
        if let available = meminfo("MemAvailable") { limits.append(MemoryLimit(availableBytes: available, source: "the machine's available memory")) }
        return limits.min { $0.availableBytes < $1.availableBytes }
    }

    /// The address-space limit (`ulimit -v`, RLIMIT_AS) in bytes, or nil when there is none.
    public static var addressSpaceLimit: Int? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    /// Throws when reading `bytes` of weights from `file`, `transient` more held for a moment
    /// (a tensor's bytes and the tensor made from them), does not fit.
    public static func checkRead(_ bytes: Int, transient: Int = 0, file: String) throws {
        guard let limit = current(), bytes + transient > limit.availableBytes else { return }
        throw refusal(file: file, what: "reading its \(format(bytes)) of weights", need: bytes + transient, limit: limit)
    }

    /// Throws when `work` on `graph` (loaded from `file`) needs more than is left: its float32
    /// weight bytes times the work's factor, less what the process already holds.
    public static func check(_ graph: Graph, work: MemoryWork, file: String) throws {
        guard let limit = current() else { return }
        let weights = graph.initializers.values.reduce(0) { $0 + $1.count } * MemoryLayout<Float>.size
        let peak = Int(Double(weights) * work.factor)
        let more = peak - (residentBytes() ?? 0)
        guard more > limit.availableBytes else { return }
        throw refusal(
            file: file, what: "this command (\(work.rawValue), about \(String(format: "%.1f", work.factor))× its \(format(weights)) of float32 weights)",
            need: more, limit: limit)
    }

    private static func refusal(file: String, what: String, need: Int, limit: MemoryLimit) -> ModelPressError {
        .invalidModel(
            file: file, location: "memory",
            message: "\(what) needs about \(format(need)) more memory; \(format(max(0, limit.availableBytes))) is left under \(limit.source). Nothing was written",
            hint: "run it where more memory is free or raise the limit; MODELPRESS_MEMORY_CHECK=0 runs it anyway (the system may then stop it)")
    }

    /// `text` as bytes: a whole number, optionally with a K, M or G suffix (powers of 1024).
    static func parseBytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        if let last = trimmed.last, let unit = units[last], let n = Double(trimmed.dropLast()), n >= 0 { return Int(n * Double(unit)) }
        return Int(trimmed).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// Bytes in the units limits are set in: 3.1 GiB, 512 MiB.
    static func format(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) : String(format: "%.0f MiB", Double(bytes) / Double(1 << 20))
    }

    /// The process's resident bytes (`/proc/self/statm`).
    static func residentBytes() -> Int? { statm(field: 1) }

    /// Field `index` of `/proc/self/statm` (0: address space, 1: resident), in bytes.
    private static func statm(field index: Int) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard index < fields.count, let pages = Int(fields[index]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// `key` of `/proc/meminfo`, in bytes.
    private static func meminfo(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// cgroup v2 `memory.max` less what the group holds apart from reclaimable file cache.
    private static func cgroupAvailable() -> MemoryLimit? {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
            let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return nil }
        let folder = "/sys/fs/cgroup" + line.dropFirst(3)
        func read(_ name: String) -> String? {
            (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let max = read("memory.max").flatMap({ Int($0) }), let used = read("memory.current").flatMap({ Int($0) }) else { return nil }
        let cache =
            read("memory.stat")?.split(separator: "\n").first { $0.hasPrefix("file ") }
            .flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        return MemoryLimit(availableBytes: max - (used - cache), source: "the cgroup's memory.max (\(format(max)))")
    }
}
