import Foundation
import TensorCore
import Testing
import Training
import _TestSupport

/// Teacher logits: a final softmax is stripped, probability outputs become log-probabilities
/// (the same softmax, so the same loss), logits pass through.
@Suite struct TeacherLogitsTests {
    /// x (N×4) → Linear → [softmax] → [identity].
    func teacher(softmax: Bool, identityAfter: Bool) throws -> Graph {
        var g = Graph(name: "teacher")
        try g.addInput(ValueInfo(name: "x", shape: [dynamicBatch, 4]))
        try g.addInitializer("w", random([4, 3], seed: 1))
        try g.append(Node(name: "dense", op: .linear, inputs: ["x", "w"], output: "logits"))
        var last = "logits"
        if softmax { try g.append(Node(name: "softmax", op: .softmax(axis: 1), inputs: [last], output: "probs")); last = "probs" }
        if identityAfter { try g.append(Node(name: "id", op: .identity, inputs: [last], output: "out")); last = "out" }
        g.outputs = [ValueInfo(name: last, shape: [dynamicBatch, 3])]
        return g
    }

    @Test func finalSoftmaxIsStripped() throws {
        let x = random([5, 4], seed: 2)
        let (plain, plainSource) = try TeacherLogits.compute(teacher: try teacher(softmax: false, identityAfter: false), inputs: x)
        let (stripped, source) = try TeacherLogits.compute(teacher: try teacher(softmax: true, identityAfter: false), inputs: x)
        #expect(plainSource == .output && source == .strippedSoftmax)
        #expect(stripped == plain)
    }

    @Test func probabilitiesBecomeLogProbabilitiesWithTheSameSoftmax() throws {
        let x = random([5, 4], seed: 3)
        let (logits, _) = try TeacherLogits.compute(teacher: try teacher(softmax: false, identityAfter: false), inputs: x)
        let (logProbs, source) = try TeacherLogits.compute(teacher: try teacher(softmax: true, identityAfter: true), inputs: x)
        #expect(source == .logProbabilities)
        // log-probabilities differ from logits by a per-row constant: the distillation loss is equal.
        let s = random([5, 3], seed: 4)
        let a = try Losses.distillation(student: s, teacher: logits, labels: nil, temperature: 1, alpha: 1)
        let b = try Losses.distillation(student: s, teacher: logProbs, labels: nil, temperature: 1, alpha: 1)
        #expect(abs(a.loss - b.loss) < 1e-5)
    }

    @Test func diskCacheIsKeyedByDigests() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = random([6, 4], seed: 5), g = try teacher(softmax: true, identityAfter: false)
        let first = try TeacherLogits.cached(teacher: g, teacherSHA256: "aa", dataSHA256: "bb", key: "x", inputs: x, directory: dir.path, file: "t")
        let second = try TeacherLogits.cached(teacher: g, teacherSHA256: "aa", dataSHA256: "bb", key: "x", inputs: x, directory: dir.path, file: "t")
        let otherData = try TeacherLogits.cached(teacher: g, teacherSHA256: "aa", dataSHA256: "cc", key: "x", inputs: x, directory: dir.path, file: "t")
        #expect(!first.hit && second.hit && !otherData.hit)
        #expect(second.logits == first.logits && second.source == .strippedSoftmax)
    }
}
