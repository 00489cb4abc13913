import Engine
import Foundation
import TensorCore

/// How a student's intermediate value is compared with the teacher's.
public enum FeatureLoss: String, Sendable, CaseIterable {
    /// Mean squared difference after the projection.
    case l2
    /// Mean over positions of `1 − cos(student·P, teacher)` along the channels.
    case cosine
}

/// Intermediate-layer (feature) distillation: for each matched pair of values, the student's
/// (N×C_s×… channels along axis 1 for images, the last axis otherwise) is projected by a learned
/// C_s×C_t matrix when the widths differ and compared with the teacher's at the same positions;
/// `weight ×` that loss joins the logit loss, its gradient enters the student's backward pass at
/// the matched value, and the projections learn with their own Adam. Targets are the teacher's
/// values, computed once (`TrainingSet.teacherFeatures`, in `values` order).
public final class FeatureDistillation {
    /// One matched pair.
    public struct Match: Sendable, Equatable {
        /// The teacher's and the student's value names.
        public var teacher: String, student: String

        /// The pair of value names.
        public init(teacher: String, student: String) {
            self.teacher = teacher
            self.student = student
        }
    }

    /// The pairs, in `TrainingSet.teacherFeatures` order.
    public let matches: [Match]
    /// L2 or cosine.
    public let loss: FeatureLoss
    /// Weight of the feature loss next to the logit loss.
    public let weight: Float
    /// Per match: the C_s×C_t projection (nil when the widths are equal), its last gradient,
    /// and the Adam that trains the projections.
    private var projections: [Tensor?]
    private var gradients: [Tensor?]
    private var optimizer = Optimizer(OptimizerConfiguration(kind: .adam))

    /// Matches of student value widths `studentChannels[i]` to teacher widths `teacherChannels[i]`,
    /// projections drawn Glorot-uniform from `seed`.
    public init(matches: [Match], studentChannels: [Int], teacherChannels: [Int], loss: FeatureLoss, weight: Float, seed: UInt64) throws {
        self.matches = matches
        self.loss = loss
        self.weight = weight
        var random = TrainingRandom(seed: seed, stream: .initialization)
        projections = try zip(studentChannels, teacherChannels).map { s, t in
            guard s != t else { return nil }
            let limit = (6 / Float(s + t)).squareRoot()
            return try Tensor(shape: [s, t], storage: (0..<(s * t)).map { _ in random.uniform(-limit, limit) })
        }
        gradients = projections.map { _ in nil }
    }

    /// The channel axis of a feature value of `rank`: 1 for images (N×C×H×W) and N×C, the last otherwise.
    public static func channelAxis(rank: Int) -> Int { rank == 4 || rank == 2 ? 1 : rank - 1 }

    /// `value` (N×…) as rows × channels (row-major), positions and samples as rows.
    static func rows(_ value: Tensor) -> (rows: [Float], count: Int, channels: Int) {
        let (outer, channels, inner) = layout(value.shape)
        return (swapInnerAxes(value.storage, outer: outer, rows: channels, columns: inner), outer * inner, channels)
    }

    /// `rows` (rows × channels) back into the layout of `like`.
    static func unrows(_ rows: [Float], like: Tensor) -> Tensor {
        let (outer, channels, inner) = layout(like.shape)
        var out = like
        out.storage = swapInnerAxes(rows, outer: outer, rows: inner, columns: channels)
        return out
    }

    /// A feature shape as `[outer, channels, inner]` around its channel axis.
    static func layout(_ shape: [Int]) -> (outer: Int, channels: Int, inner: Int) {
        let axis = channelAxis(rank: shape.count)
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// `[outer, rows, columns]` (row-major) transposed to `[outer, columns, rows]`.
    static func swapInnerAxes(_ x: [Float], outer: Int, rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for o in 0..<outer {
            let base = o * rows * columns
            for r in 0..<rows {
                for c in 0..<columns { out[base + c * rows + r] = x[base + r * columns + c] }
            }
        }
        return out
    }

    /// The weighted feature loss of one batch and its gradient at each matched student value;
    /// `targets` are the teacher's values of the batch's samples. Keeps the projections' gradients for `update`.
    public func lossAndGradients(_ tape: Tape, targets: [Tensor]) throws -> (loss: Double, gradients: [String: Tensor]) {
        var total = 0.0
        var seeds: [String: Tensor] = [:]
        for (k, match) in matches.enumerated() {
            guard let value = tape.values[match.student] else { throw ModelPressError.internalError("feature distillation: no student value '\(match.student)'") }
            let (s, r, cs) = Self.rows(value), (t, rt, ct) = Self.rows(targets[k])
            guard r == rt else {
                throw ModelPressError.invalidArgument(
                    "--match \(match.teacher):\(match.student): the teacher's value \(targets[k].shape) and the student's \(value.shape) differ in positions.\nHINT: match layers of the same spatial size or sequence length."
                )
            }
            // y[r×ct] = s[r×cs] · P[cs×ct] (or s).
            var y = s
            if let p = projections[k] {
                y = [Float](repeating: 0, count: r * ct)
                GEMM.sgemm(m: r, n: ct, k: cs, a: s, lda: cs, b: p.storage, ldb: ct, c: &y, ldc: ct)
            }
            var dy = [Float](repeating: 0, count: r * ct)
            switch loss {
            case .l2:
                let scale = 2 * weight / Float(r * ct)
                for i in 0..<(r * ct) {
                    let d = y[i] - t[i]
                    total += Double(weight) * Double(d * d) / Double(r * ct)
                    dy[i] = scale * d
                }
            case .cosine:
                for i in 0..<r {
                    var dot: Float = 0, yy: Float = 0, tt: Float = 0
                    for b in 0..<ct { dot += y[i * ct + b] * t[i * ct + b]; yy += y[i * ct + b] * y[i * ct + b]; tt += t[i * ct + b] * t[i * ct + b] }
                    let ny = yy.squareRoot() + 1e-8, nt = tt.squareRoot() + 1e-8
                    let cos = dot / (ny * nt)
                    total += Double(weight) * Double(1 - cos) / Double(r)
                    for b in 0..<ct { dy[i * ct + b] = -weight / Float(r) * (t[i * ct + b] / (ny * nt) - cos * y[i * ct + b] / (ny * ny)) }
                }
            }
            // ds[r×cs] = dy · Pᵀ, dP[cs×ct] = sᵀ · dy.
            var ds = dy
            if let p = projections[k] {
                ds = [Float](repeating: 0, count: r * cs)
                GEMM.sgemm(transB: true, m: r, n: cs, k: ct, a: dy, lda: ct, b: p.storage, ldb: ct, c: &ds, ldc: cs)
                var dp = [Float](repeating: 0, count: cs * ct)
                GEMM.sgemm(transA: true, m: cs, n: ct, k: r, a: s, lda: cs, b: dy, ldb: ct, c: &dp, ldc: ct)
                gradients[k] = try Tensor(shape: p.shape, storage: dp)
            }
            seeds[match.student] = Self.unrows(ds, like: value)
        }
        return (total, seeds)
    }

    /// One Adam step of the projections with the last batch's gradients.
    public func update(learningRate: Float) {
        let trained = projections.indices.filter { projections[$0] != nil && gradients[$0] != nil }
        guard !trained.isEmpty else { return }
        var parameters = trained.map { projections[$0]! }
        optimizer.update(&parameters, gradients: trained.map { gradients[$0]! }, learningRate: learningRate)
        for (k, p) in zip(trained, parameters) { projections[k] = p }
    }

    /// The value a layer (or node) named `name` writes in `graph`: the output of the last node
    /// of that layer; nil when no node has that name or layer.
    public static func value(ofLayer name: String, in graph: Graph) -> String? {
        graph.nodes.last { $0.name == name || $0.layer == name }?.output
    }
}

extension FeatureDistillation {
    /// The teacher's `values` for every sample of `inputs` (N×…), run in batches of 256.
    public static func teacherFeatures(_ teacher: Graph, values: [String], inputs: Tensor) throws -> [Tensor] {
        try teacherFeatures(Executor(graph: teacher), values: values, inputs: inputs)
    }

    /// `teacherFeatures` on an executor built once (mixup runs the teacher on every batch).
    public static func teacherFeatures(_ executor: Executor, values: [String], inputs: Tensor) throws -> [Tensor] {
        let n = inputs.shape[0], per = inputs.count / max(1, n)
        var found = [[Float]](repeating: [], count: values.count)
        var shapes = [[Int]](repeating: [], count: values.count)
        let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
        var start = 0
        while start < n {
            let end = min(n, start + 256)
            let batch = try Tensor(shape: [end - start] + inputs.shape.dropFirst(), storage: Array(inputs.storage[(start * per)..<(end * per)]))
            _ = try executor.run(batch) { name, value in
                guard let k = index[name] else { return }
                found[k] += value.storage
                shapes[k] = Array(value.shape.dropFirst())
            }
            start = end
        }
        return try zip(found, shapes).map { try Tensor(shape: [n] + $1, storage: $0) }
    }

    /// Parses `teacher_layer:student_layer,…` against both graphs: value names and widths, or
    /// exit 2 naming the layer that neither a node nor a layer of its model is called.
    public static func parse(_ text: String, teacher: Graph, student: Graph) throws -> (matches: [Match], teacherChannels: [Int], studentChannels: [Int]) {
        var matches: [Match] = [], tc: [Int] = [], sc: [Int] = []
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else {
                throw ModelPressError.invalidArgument("--match \(entry): expected TEACHER_LAYER:STUDENT_LAYER.\nHINT: e.g. --match conv_2:conv_2; `modelpress inspect` lists the layers.")
            }
            guard let t = value(ofLayer: parts[0], in: teacher), let ts = teacher.shapes[t], ts.count >= 2 else {
                throw ModelPressError.invalidArgument("--match \(entry): the teacher has no layer '\(parts[0])'.\nHINT: `modelpress inspect TEACHER` lists its layers.")
            }
            guard let s = value(ofLayer: parts[1], in: student), let ss = student.shapes[s], ss.count == ts.count else {
                throw ModelPressError.invalidArgument(
                    "--match \(entry): the student has no layer '\(parts[1])' of rank \(ts.count) (the teacher's value is \(ts)).\nHINT: `modelpress inspect` lists a model's layers and shapes.")
            }
            matches.append(Match(teacher: t, student: s))
            tc.append(ts[channelAxis(rank: ts.count)])
            sc.append(ss[channelAxis(rank: ss.count)])
        }
        return (matches, tc, sc)
    }
}
