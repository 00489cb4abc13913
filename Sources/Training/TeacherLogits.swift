import Engine
import Evaluation
import Foundation
import ModelIO
import TensorCore

/// Teacher outputs for distillation: logits taken before a final softmax, computed once per
/// dataset, optionally cached on disk keyed by the teacher's and the data's SHA-256.
public enum TeacherLogits {
    /// How the logits were obtained, for the log.
    public enum Source: String, Sendable, Codable {
        /// The teacher's output is already logits.
        case output
        /// A final softmax was stripped; its input is used.
        case strippedSoftmax = "stripped-softmax"
        /// The output looked like probabilities (rows on the simplex); `log(p)` is used, which
        /// gives the same softmax and so the same loss.
        case logProbabilities = "log-probabilities"
    }

    /// Runs `teacher` (any single-input classifier) on `inputs` (N×teacher sample shape) in
    /// batches and returns N×classes logits and how they were obtained.
    public static func compute(teacher: Graph, inputs: Tensor, batchSize: Int = 256, file: String = "") throws -> (Tensor, Source) {
        let function = try TeacherFunction(teacher: teacher, file: file)
        let n = inputs.shape[0]
        var storage: [Float] = []
        var classes = 0
        var start = 0
        let per = inputs.count / max(1, n)
        while start < n {
            let end = min(n, start + batchSize)
            let batch = try Tensor(shape: [end - start] + inputs.shape.dropFirst(), storage: Array(inputs.storage[(start * per)..<(end * per)]))
            let out = try function.outputs(batch, firstSample: start)
            classes = out.shape[1]
            storage.append(contentsOf: out.storage)
            start = end
        }
        let outputs = try Tensor(shape: [n, classes], storage: storage)
        let source: Source = function.strippedSoftmax ? .strippedSoftmax : looksLikeProbabilities(outputs) ? .logProbabilities : .output
        return (TeacherFunction.logits(outputs, source: source), source)
    }

    /// Whether every row is non-negative and sums to 1 (±1e-3).
    static func looksLikeProbabilities(_ t: Tensor) -> Bool {
        let c = t.shape[1]
        guard c >= 2 else { return false }
        for row in 0..<t.shape[0] {
            var sum: Float = 0
            for k in 0..<c {
                let v = t.storage[row * c + k]
                if v < 0 { return false }
                sum += v
            }
            if abs(sum - 1) > 1e-3 { return false }
        }
        return true
    }

    /// `compute`, memoised in `directory` (when given) under a name made of the teacher's and the
    /// data's SHA-256 and the input key; `hit` tells whether the cache answered. The cache file
    /// is raw (`CachedLogits`), not HDF5: HDF5's file locks would make a reader fail while any
    /// child process still holds an inherited descriptor of the file being written.
    public static func cached(
        teacher: Graph, teacherSHA256: String, dataSHA256: String, key: String, inputs: Tensor,
        directory: String?, file: String
    ) throws -> (logits: Tensor, source: Source, hit: Bool) {
        guard let directory else {
            let (l, s) = try compute(teacher: teacher, inputs: inputs, file: file)
            return (l, s, false)
        }
        let safeKey = key.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        let path = "\(directory)/teacher-\(teacherSHA256.prefix(16))-data-\(dataSHA256.prefix(16))-\(safeKey).logits"
        if let data = FileManager.default.contents(atPath: path), let cached = CachedLogits.decode(data), cached.logits.shape.first == inputs.shape.first {
            return (cached.logits, cached.source, true)
        }
        let (logits, source) = try compute(teacher: teacher, inputs: inputs, file: file)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(CachedLogits.encode(logits, source: source), to: path)
        return (logits, source, false)
    }
}

/// A teacher ready to run on batches (mixup recomputes its logits on every mixed batch): the
/// executor of its inference graph, its final softmax stripped.
public struct TeacherFunction {
    let executor: Executor
    let file: String
    /// Whether a final softmax was stripped (its input is the logits).
    public let strippedSoftmax: Bool

    /// The function of `teacher`, read from `file` (named in errors).
    public init(teacher: Graph, file: String) throws {
        let model = try TrainableModel(graph: teacher, source: file)
        executor = Executor(graph: try inferenceGraph(model.graph))
        strippedSoftmax = model.strippedSoftmax != nil
        self.file = file
    }

    /// The teacher's raw outputs on `batch` (B×teacher sample shape), B×classes; exit 2 when
    /// they are not N×classes or not finite (`firstSample` numbers the rows in the message).
    public func outputs(_ batch: Tensor, firstSample: Int = 0) throws -> Tensor {
        let out = try executor.run(batch)
        guard out.rank == 2 else {
            throw ModelPressError.invalidModel(
                file: file, location: "output", message: "has shape \(out.shape), not N×classes",
                hint: "distillation needs a classifier teacher")
        }
        if let bad = out.storage.firstIndex(where: { !$0.isFinite }) {
            throw ModelPressError.invalidModel(
                file: file, location: "output for sample \(firstSample + bad / max(1, out.shape[1]))", message: "is not finite (NaN or ±inf)",
                hint: "the teacher's weights or the data are broken; check them with modelpress eval")
        }
        return out
    }

    /// The logits on `batch`, obtained as `source` says (the source the whole data set showed).
    public func logits(_ batch: Tensor, source: TeacherLogits.Source) throws -> Tensor {
        Self.logits(try outputs(batch), source: source)
    }

    /// `outputs` as logits: `log(p)` for `.logProbabilities` (the same softmax), else unchanged.
    static func logits(_ outputs: Tensor, source: TeacherLogits.Source) -> Tensor {
        guard source == .logProbabilities else { return outputs }
        var logits = outputs
        logits.storage = logits.storage.map { Float(Foundation.log(Double(max($0, 1e-12)))) }
        return logits
    }
}

/// The teacher-logits cache file: magic `MPLOGIT1`, rows and classes (UInt32 little-endian),
/// the `Source` code (UInt32), then rows×classes float32 little-endian.
enum CachedLogits {
    static let magic = Array("MPLOGIT1".utf8)
    static let sources: [TeacherLogits.Source] = [.output, .strippedSoftmax, .logProbabilities]

    /// The file bytes for `logits` (N×classes).
    static func encode(_ logits: Tensor, source: TeacherLogits.Source) -> Data {
        var data = Data(magic)
        for v in [UInt32(logits.shape[0]), UInt32(logits.shape[1]), UInt32(sources.firstIndex(of: source) ?? 0)] {
            withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
        }
        for v in logits.storage { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    /// The logits in `data`, or `nil` when it is not a complete cache file.
    static func decode(_ data: Data) -> (logits: Tensor, source: TeacherLogits.Source)? {
        let bytes = [UInt8](data)
        guard bytes.count >= 20, Array(bytes[0..<8]) == magic else { return nil }
        func word(_ at: Int) -> Int {
            Int(UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24)
        }
        let (rows, classes, code) = (word(8), word(12), word(16))
        guard code < sources.count, let count = Checked.multiply(rows, classes), bytes.count == 20 + 4 * count else { return nil }
        let values = (0..<count).map { Float(bitPattern: UInt32(truncatingIfNeeded: word(20 + 4 * $0))) }
        guard let logits = try? Tensor(shape: [rows, classes], storage: values) else { return nil }
        return (logits, sources[code])
    }
}
