import Foundation
import Testing
import _TestSupport

/// `modelpress verify` run as CI runs it: exit codes, the three reports, and numbers that
/// agree with `modelpress eval`.
@Suite("verify: accuracy gates and reports", .serialized)
struct VerifyCommandTests {
    struct Report: Decodable {
        struct Model: Decodable { let accuracy: Double?; let path: String }
        struct Gate: Decodable { let name: String; let value: Double; let limit: Double; let passed: Bool }
        struct Bootstrap: Decodable { let ci_lower: Double; let ci_upper: Double; let difference: Double }
        let schema_version: Int
        let passed: Bool
        let reference: Model
        let candidate: Model
        let agreement: Double?
        let gates: [Gate]
        let bootstrap: Bootstrap?
    }
    struct EvalJSON: Decodable { let accuracy: Double }

    static let data = "fixtures/data/digits_test.h5"

    func eval(_ model: String) throws -> Double {
        let result = try runModelPress(["eval", model, "--data", Self.data, "--json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        return try JSONDecoder().decode(EvalJSON.self, from: Data(result.stdout.utf8)).accuracy
    }

    @Test("cnn.h5 against its own exported ONNX: passes, agreement 1, CI [0, 0], accuracies equal eval's")
    func passesAgainstExport() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let onnx = dir.appendingPathComponent("cnn.onnx").path
        let export = try runModelPress(["export", "fixtures/models/keras3/cnn.h5", "-o", onnx])
        #expect(export.exitCode == 0, "\(export.stderr)")
        let json = dir.appendingPathComponent("r.json").path, md = dir.appendingPathComponent("r.md").path
        let xml = dir.appendingPathComponent("r.xml").path
        let result = try runModelPress([
            "verify", "--reference", "fixtures/models/keras3/cnn.h5", "--candidate", onnx,
            "--data", Self.data, "--max-drop", "0.001", "--min-agreement", "1", "--max-kl", "1e-6",
            "--report", json, "--markdown", md, "--junit", xml,
        ])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(report.schema_version == 1 && report.passed)
        #expect(report.agreement == 1)
        #expect(report.gates.map(\.name) == ["max_drop", "min_agreement", "max_kl"])
        #expect(report.gates.allSatisfy { $0.passed })
        #expect(report.bootstrap?.ci_lower == 0 && report.bootstrap?.ci_upper == 0)
        #expect(report.reference.accuracy == (try eval("fixtures/models/keras3/cnn.h5")))
        #expect(report.candidate.accuracy == (try eval(onnx)))
        let junit = try String(contentsOfFile: xml, encoding: .utf8)
        #expect(junit.contains("failures=\"0\"") && !junit.contains("<failure"))
        #expect(try String(contentsOfFile: md, encoding: .utf8).contains("✅ passed"))
    }

    @Test("cnn against mlp with an impossible --min-agreement: exit 1, JUnit failure, all reports written")
    func failsImpossibleAgreement() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path, md = dir.appendingPathComponent("r.md").path
        let xml = dir.appendingPathComponent("r.xml").path
        let result = try runModelPress([
            "verify", "--reference", "fixtures/models/keras3/cnn.h5",
            "--candidate", "fixtures/models/keras3/mlp.h5", "--data", Self.data,
            "--min-agreement", "0.999", "--max-drop", "0.5",
            "--report", json, "--markdown", md, "--junit", xml,
        ])
        #expect(result.exitCode == 1, "\(result.stderr)")
        #expect(result.stderr.contains("min_agreement") || result.stderr.contains("agreement"))
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(!report.passed)
        let gate = report.gates.first { $0.name == "min_agreement" }
        #expect(gate?.passed == false && gate?.limit == 0.999 && (gate?.value ?? 1) < 0.999)
        #expect(report.gates.first { $0.name == "max_drop" }?.passed == true)
        #expect(report.reference.accuracy == (try eval("fixtures/models/keras3/cnn.h5")))
        #expect(report.candidate.accuracy == (try eval("fixtures/models/keras3/mlp.h5")))
        let junit = try String(contentsOfFile: xml, encoding: .utf8)
        #expect(junit.contains("tests=\"2\" failures=\"1\""))
        #expect(junit.contains("<failure message=\"top-1 agreement"))
        #expect(try String(contentsOfFile: md, encoding: .utf8).contains("| `min_agreement` |"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(leftovers == ["r.json", "r.md", "r.xml"], "no temporary files: \(leftovers)")
    }

    @Test("same seed gives the same report bytes")
    func deterministic() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var reports: [Data] = []
        for name in ["a.json", "b.json"] {
            let path = dir.appendingPathComponent(name).path
            let result = try runModelPress([
                "verify", "--reference", "fixtures/models/keras3/cnn.h5",
                "--candidate", "fixtures/models/keras2/cnn.h5", "--data", Self.data,
                "--seed", "9", "--bootstrap", "300", "--report", path, "-q",
            ])
            #expect(result.exitCode == 0, "\(result.stderr)")
            reports.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        #expect(reports[0] == reports[1])
    }

    @Test("outputs that are not N×classes: MSE/MAE drift only, exit 0")
    func regressionDrift() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        let result = try runModelPress([
            "verify", "--reference", "fixtures/models/keras3/zoo_act.h5",
            "--candidate", "fixtures/models/keras2/zoo_act.h5",
            "--data", "fixtures/data/zoo_inputs.h5", "--report", json,
        ])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        #expect(object?["task"] as? String == "regression")
        #expect(object?["agreement"] is NSNull)
        let drift = object?["drift"] as? [String: Double]
        #expect(drift?["mse"] != nil && drift?["max_abs_diff"] != nil)
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let mentions: [String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badCases: [BadCase] = [
        BadCase(
            arguments: [
                "--reference", "fixtures/models/bad/missing.h5", "--candidate", "fixtures/models/keras3/cnn.h5",
                "--data", data,
            ], mentions: ["missing.h5", "no such file"]),
        BadCase(
            arguments: [
                "--reference", "fixtures/models/keras3/cnn.h5", "--candidate", "fixtures/models/keras3/cnn.h5",
                "--data", "fixtures/data/nope.h5",
            ], mentions: ["nope.h5"]),
        BadCase(
            arguments: [
                "--reference", "fixtures/models/keras3/cnn.h5", "--candidate", "fixtures/models/keras3/zoo_conv.h5",
                "--data", data,
            ], mentions: ["zoo_conv.h5"]),
        BadCase(
            arguments: [
                "--reference", "fixtures/models/keras3/cnn.h5", "--candidate", "fixtures/models/keras3/cnn.h5",
                "--data", data, "--x-key", "pixels",
            ], mentions: ["'/pixels'"]),
        BadCase(
            arguments: [
                "--reference", "fixtures/models/keras3/cnn.h5", "--candidate", "fixtures/models/keras3/cnn.h5",
                "--data", "fixtures/data/zoo_inputs.h5",
            ], mentions: ["zoo_inputs.h5", "cnn.h5"]),
        BadCase(
            arguments: [
                "--reference", "fixtures/models/keras3/cnn.h5", "--candidate", "fixtures/models/keras3/cnn.h5",
                "--data", "fixtures/models/bad/dataset_no_y.h5", "--max-drop", "0.01",
            ], mentions: ["dataset_no_y.h5", "'/y'"]),
        BadCase(
            arguments: [
                "--reference", "fixtures/models/keras3/cnn.h5", "--candidate", "fixtures/models/keras3/cnn.h5",
                "--data", data, "--min-agreement", "1.5",
            ], mentions: ["--min-agreement"]),
        BadCase(
            arguments: [
                "--reference", "fixtures/models/keras3/cnn.h5", "--candidate", "fixtures/models/keras3/cnn.h5",
                "--data", data, "--report", "/nonexistent-dir/r.json",
            ], mentions: ["/nonexistent-dir"]),
        BadCase(arguments: ["--reference", "fixtures/models/keras3/cnn.h5", "--data", data], mentions: ["--candidate"]),
        BadCase(
            arguments: [
                "--reference", "fixtures/models/keras3/zoo_misc.h5", "--candidate", "fixtures/models/keras3/zoo_act.h5",
                "--data", "fixtures/data/zoo_inputs.h5",
            ], mentions: ["zoo_misc.h5", "zoo_act.h5", "[8, 29]", "[8, 16, 16, 69]"]),
        BadCase(
            arguments: [
                "--reference", "fixtures/models/keras3/zoo_act.h5", "--candidate", "fixtures/models/keras3/zoo_act.h5",
                "--data", "fixtures/data/zoo_inputs.h5", "--min-agreement", "0.9",
            ], mentions: ["not N×classes", "--min-agreement"]),
    ]

    @Test("bad input: exit 2, the message names the file or dataset", arguments: badCases)
    func badInput(_ c: BadCase) throws {
        let result = try runModelPress(["verify"] + c.arguments)
        #expect(result.exitCode == 2, "stderr: \(result.stderr)")
        for m in c.mentions { #expect(result.stderr.contains(m), "stderr should mention \(m): \(result.stderr)") }
        #expect(!result.stderr.contains("Fatal error"))
    }
}
