import Foundation
import TensorCore
import Testing
import _TestSupport

@testable import Pipeline

/// Pipeline files: strict validation with line and column, `--set`, and the stage plan.
@Suite struct PipelineSpecTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-spec-\(getpid())").path

    /// Writes `body` after a valid header (model and data from the fixtures) and loads it.
    func load(_ stages: String, header extra: String = "", overrides: [String] = []) throws -> PipelineSpec {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/\(UUID().uuidString)/p.yaml"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let text = """
            version: 1
            name: test
            model: \(Fixtures.path("models/keras3/cnn.h5"))
            data: { train: \(Fixtures.path("data/digits_train.h5")), test: \(Fixtures.path("data/digits_test.h5")) }
            \(extra)stages:
            \(stages)
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try PipelineSpec.load(path, overrides: overrides)
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return ""
    }

    @Test func optionsBecomeTheCommandsFlags() throws {
        let spec = try load("  - quantize: { method: entropy, max_drop: 0.01, exclude: [conv_1, dense], dynamic: false, json_x: true }")
        let options = spec.stages[0].options
        #expect(options.map(\.arguments) == [["--method", "entropy"], ["--max-drop", "0.01"], ["--exclude", "conv_1", "dense"], [], ["--json-x"]])
        #expect(options[0].location.line == 6 && options[0].location.column == 25 && options[0].keyLocation.column == 17)
    }

    @Test func errorsNameLineAndColumn() {
        #expect(message { _ = try load("  - quantize: {}", header: "seed: seven\n") }.contains("p.yaml:5:7: 'seed'"))
        #expect(message { _ = try load("  - squash: {}") }.contains("p.yaml:6:5: unknown stage kind 'squash'"))
        #expect(message { _ = try load("  - export: {}", header: "colour: red\n") }.contains("p.yaml:5:1: unknown key 'colour'"))
        #expect(message { _ = try load("  - quantize: {}\n  - distill: { student: 'dense:8' }") }.contains("p.yaml:7:5: stage 2 (distill) comes after stage 1 (quantize)"))
        #expect(message { _ = try load("  - verify: {}") }.contains("p.yaml:6:5: stage 1 (verify) is the first stage"))
        #expect(message { _ = try load("  - export: { path: ../up.onnx }") }.contains("p.yaml:6:21: export path"))
    }

    @Test func setOverridesReachNestedStageOptionsAndAreTyped() throws {
        let spec = try load(
            "  - quantize: { method: minmax }\n  - export: {}",
            overrides: ["stages.1.method=entropy", "stages.2.opset=17", "seed=9"])
        #expect(spec.stages[0].option("method")?.text == "entropy")
        #expect(spec.stages[1].option("opset")?.text == "17")
        #expect(spec.seed == 9)
        #expect(message { _ = try load("  - export: {}", overrides: ["seed=many"]) }.contains("--set seed=many:1:1: 'seed'"))
        #expect(message { _ = try load("  - export: {}", overrides: ["stages.3.x=1"]) }.contains("not a stage number 1…1"))
    }

    @Test func verifyJudgesTheExportedFileAndStagesChainTheirModels() throws {
        let spec = try load("  - prune: { sparsity: 0.5 }\n  - quantize: {}\n  - verify: { max_drop: 0.01 }\n  - export: { path: a.onnx }")
        let plan = StagePlan.make(spec, runDirectory: "/run")
        #expect(plan.map(\.directory) == ["01-prune", "02-quantize", "04-export", "03-verify"])
        #expect(plan[1].inputModel == "/run/stages/01-prune/model.onnx")
        let verify = plan[3].arguments
        #expect(verify[verify.firstIndex(of: "--candidate")! + 1] == "/run/stages/04-export/model.onnx")
        #expect(verify[verify.firstIndex(of: "--reference")! + 1] == spec.model)
        #expect(plan[1].arguments.contains("--calibration") && plan[1].inputs == [spec.data.train!])
    }

    @Test func cacheKeysChangeWithOptionsAndChainThroughStages() throws {
        let a = try load("  - quantize: { method: minmax }\n  - export: {}")
        let b = try load("  - quantize: { method: entropy }\n  - export: {}")
        func keys(_ spec: PipelineSpec) throws -> [String] {
            var cache = StageCache(runDirectory: "/run")
            var key = try cache.rootKey(model: spec.model, version: "test")
            return try StagePlan.make(spec, runDirectory: "/run").map {
                key = try cache.key(for: $0, previous: key); return key
            }
        }
        let (ka, kb) = (try keys(a), try keys(b))
        #expect(ka == (try keys(a)))
        #expect(ka[0] != kb[0] && ka[1] != kb[1])
    }

    @Test func shardsPartitionEntriesByAStableHash() throws {
        // FNV-1a 64 reference values (draft-eastlake-fnv): "" and "a".
        #expect(Shard.fnv1a("") == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
        let names = (0..<50).map { "model-\($0)" }
        let shards = try (1...3).map { k in try Shard("\(k)/3") }
        for name in names { #expect(shards.filter { $0.contains(name) }.count == 1) }
        #expect(shards.allSatisfy { shard in names.contains { shard.contains($0) } })
        #expect(message { _ = try Shard("0/3") }.contains("expected K/N"))
    }
}
