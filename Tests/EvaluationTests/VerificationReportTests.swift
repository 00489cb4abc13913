import Evaluation
import Foundation
import TensorCore
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The report assembled from two models' outputs, and its JSON / Markdown / JUnit renderings.
@Suite("Verification report")
struct VerificationReportTests {
    static let data = DataSummary(path: "test.h5", xKey: "x", yKey: "y", samples: 4, outputShape: [4, 3])

    /// Reference probabilities (all right): argmax 0 1 2 2; candidate logits: argmax 0 1 1 2.
    static func report(limits: GateLimits, labels: [Int]? = [0, 1, 2, 2]) throws -> VerificationReport {
        let reference = try Tensor(shape: [4, 3], storage: [0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.2, 0.7, 0.2, 0.2, 0.6])
        let candidate = try Tensor(shape: [4, 3], storage: [3, 1, 0, 0, 2, 1, 0, 2, 1, 0, 0, 1])
        return VerificationReport.compare(
            reference: reference, candidate: candidate, labels: labels, data: data,
            referencePath: "ref.h5", candidatePath: "cand.onnx",
            settings: VerificationSettings(limits: limits, bootstrapResamples: 100, seed: 1))
    }

    @Test("accuracies, agreement, softmax note and gates")
    func classification() throws {
        let r = try Self.report(limits: GateLimits(maxDrop: 0.1, minAgreement: 0.5))
        #expect(r.task == "classification")
        #expect(r.reference.accuracy == 1 && r.candidate.accuracy == 0.75)
        #expect(r.agreement == 0.75)
        #expect(r.reference.softmaxApplied == false && r.candidate.softmaxApplied == true)
        #expect(r.notes.contains { $0.contains("candidate outputs are not probabilities") })
        #expect(r.reference.top5Accuracy == nil, "3 classes: no top-5")
        #expect(r.gates.map(\.passed) == [false, true])
        #expect(!r.passed)
        #expect(r.bootstrap?.difference == -0.25)
    }

    @Test("non-classification outputs: drift only, no gates")
    func regression() throws {
        let reference = try Tensor(shape: [3, 1], storage: [1, 2, 3])
        let candidate = try Tensor(shape: [3, 1], storage: [1, 2.5, 3])
        let r = VerificationReport.compare(
            reference: reference, candidate: candidate, labels: nil,
            data: DataSummary(path: "d.h5", xKey: "x", yKey: nil, samples: 3, outputShape: [3, 1]),
            referencePath: "a", candidatePath: "b", settings: VerificationSettings(limits: GateLimits()))
        #expect(r.task == "regression" && r.passed && r.gates.isEmpty && r.agreement == nil)
        #expect(abs(r.drift.meanSquaredError - 0.25 / 3) < 1e-12)
    }

    @Test("JSON: schema_version 1, required keys, nulls for absent metrics")
    func json() throws {
        let r = try Self.report(limits: GateLimits(maxDrop: 0.1), labels: nil)
        let object = try JSONSerialization.jsonObject(with: try r.jsonData()) as? [String: Any]
        #expect(object?["schema_version"] as? Int == 1)
        #expect(object?["passed"] as? Bool == true, "no labels → the accuracy gate is not produced")
        #expect(object?["agreement"] as? Double == 0.75)
        let reference = object?["reference"] as? [String: Any]
        #expect(reference?["accuracy"] is NSNull)
        #expect(object?["bootstrap"] is NSNull)
        #expect((object?["gates"] as? [Any])?.isEmpty == true)
        let decoded = try JSONDecoder().decode(VerificationReport.self, from: try r.jsonData())
        #expect(decoded.agreement == r.agreement && decoded.schemaVersion == 1)
    }

    @Test("JUnit: one test case per gate, a failure element for the failing one")
    func junit() throws {
        let xml = try Self.report(limits: GateLimits(maxDrop: 0.1, minAgreement: 0.5)).junitXML()
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 2)
        #expect(xml.components(separatedBy: "<failure ").count - 1 == 1)
        #expect(xml.contains("name=\"max_drop\""))
        #expect(xml.contains("tests=\"2\" failures=\"1\""))
        #expect(try XMLDocument(xmlString: xml).rootElement()?.name == "testsuites")
    }

    @Test("Markdown: gate table with ✅/❌ and the CI")
    func markdown() throws {
        let md = try Self.report(limits: GateLimits(maxDrop: 0.1, minAgreement: 0.5)).markdown()
        #expect(md.contains("❌ failed"))
        #expect(md.contains("| `max_drop` | 0.2500 | <= 0.1000 | ❌ |"))
        #expect(md.contains("| `min_agreement` | 0.7500 | >= 0.5000 | ✅ |"))
        #expect(md.contains("95% CI"))
    }
}
