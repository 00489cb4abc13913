import Foundation
import ModelIO
import ModelLoading
import Pruning
import TensorCore
import XCTest
import _TestSupport

/// `modelpress prune` end to end: the counts are checked on the exported ONNX, read back.
final class PruneCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// The `--json` report's fields the tests read.
    struct Report: Decodable {
        struct Layer: Decodable {
            let node: String
            let layer: String
            let parameters: Int
            let nonzeros: Int
            let skipped: String?
        }
        let layers: [Layer]
        let prunedParameters: Int
        let prunedNonzeros: Int
        let warnings: [String]
    }

    /// Runs `prune` with `arguments`, reads the written ONNX back, and returns its Dense/Conv
    /// weights by node name together with the report.
    func prune(_ model: String, _ arguments: [String]) throws -> (weights: [String: Tensor], report: Report) {
        let out = directory.appendingPathComponent("out.onnx").path
        let result = try runModelPress(["prune", Fixtures.path(model), "-o", out, "--json"] + arguments)
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        let graph = try ModelLoader.load(out)
        var weights: [String: Tensor] = [:]
        for node in graph.nodes where node.inputs.count >= 2 {
            switch node.op {
            case .linear, .conv2D: weights[node.name] = graph.initializers[node.inputs[1]]
            default: break
            }
        }
        return (weights, report)
    }

    func zeros(_ t: Tensor?) -> Int { t?.storage.filter { $0 == 0 }.count ?? -1 }

    func testLayerScopeExactSparsityInTheExportedFile() throws {
        for model in ["models/keras3/cnn.h5", "models/keras3/mlp.h5", "models/keras3/functional.h5"] {
            for s in [0.5, 0.8, 0.9] {
                let (weights, report) = try prune(model, ["--sparsity", String(s), "--scope", "layer"])
                for layer in report.layers {
                    let w = try XCTUnwrap(weights[layer.node], "\(model): \(layer.node) not in the ONNX file")
                    XCTAssertEqual(w.count, layer.parameters)
                    if layer.skipped == nil {
                        XCTAssertEqual(zeros(w), MagnitudeMask.prunedCount(sparsity: s, count: w.count), "\(model) \(s) \(layer.node)")
                    } else {
                        XCTAssertEqual(zeros(w), 0, "\(model) \(layer.node) should stay dense")
                    }
                    XCTAssertEqual(w.count - zeros(w), layer.nonzeros)
                }
            }
        }
    }

    func testBatchNormFoldedModelKeepsZerosAndDepthwiseStaysDense() throws {
        let (weights, report) = try prune("models/keras3/functional.h5", ["--sparsity", "0.75", "--scope", "layer"])
        XCTAssertEqual(zeros(weights["stem_conv"]), 108)  // 144 · 0.75, BN folded after pruning ranks
        XCTAssertEqual(zeros(weights["dw_conv"]), 0)
        XCTAssertNotNil(report.layers.first { $0.node == "dw_conv" }?.skipped)
    }

    func testGlobalScopeExactTotal() throws {
        let (weights, report) = try prune("models/keras3/cnn.h5", ["--sparsity", "0.8", "--scope", "global"])
        let total = report.layers.reduce(0) { $0 + $1.parameters }
        let zeroed = report.layers.reduce(0) { $0 + zeros(weights[$1.node]) }
        XCTAssertEqual(zeroed, MagnitudeMask.prunedCount(sparsity: 0.8, count: total))
        XCTAssertEqual(report.prunedParameters - report.prunedNonzeros, zeroed)
    }

    func testGlobalScopeWarnsWhenALayerIsEmptied() throws {
        // BN folding makes the convs' weights larger than the classifier's: at 80% the global
        // threshold removes all of `logits`.
        let (weights, report) = try prune("models/keras3/functional.h5", ["--sparsity", "0.8", "--scope", "global"])
        XCTAssertEqual(zeros(weights["logits"]), 160)
        XCTAssertEqual(report.warnings.count, 1)
        XCTAssertTrue(report.warnings.first?.contains("--exclude logits") ?? false, "\(report.warnings)")
    }

    func testTwoOfFourEveryGroupInTheExportedFile() throws {
        let (weights, report) = try prune("models/keras3/cnn.h5", ["--structure", "2:4"])
        var checkedGroups = 0
        for layer in report.layers {
            let w = try XCTUnwrap(weights[layer.node])
            let (outer, k, inner) = w.rank == 4 ? (w.shape[0], w.shape[1], w.shape[2] * w.shape[3]) : (1, w.shape[0], w.shape[1])
            guard k % 4 == 0 else {
                XCTAssertEqual(zeros(w), 0, "\(layer.node): K = \(k) is left dense")
                XCTAssertNotNil(layer.skipped)
                continue
            }
            for o in 0..<outer {
                for g in stride(from: 0, to: k, by: 4) {
                    for j in 0..<inner {
                        let group = (g..<g + 4).map { w.storage[(o * k + $0) * inner + j] }
                        XCTAssertEqual(group.filter { $0 != 0 }.count, 2, "\(layer.node) o \(o) group \(g) j \(j)")
                        checkedGroups += 1
                    }
                }
            }
        }
        XCTAssertEqual(checkedGroups, 32 * 4 * 9 + 32 * 64 + 16 * 10)  // conv_2, dense, predictions
    }

    func testExcludeAndMinParams() throws {
        let (weights, report) = try prune("models/keras3/cnn.h5", ["--sparsity", "0.5", "--scope", "layer", "--exclude", "dense", "conv_2/conv", "--min-params", "200"])
        XCTAssertEqual(zeros(weights["dense/linear"]), 0)
        XCTAssertEqual(zeros(weights["conv_2/conv"]), 0)
        XCTAssertEqual(zeros(weights["conv_1/conv"]), 0)  // 144 < 200
        XCTAssertEqual(zeros(weights["predictions/linear"]), 320)  // 640 · 0.5
        XCTAssertEqual(report.prunedParameters, 640)
    }

    func testSameInputsGiveSameBytesAndMetadata() throws {
        let model = Fixtures.path("models/keras3/cnn.h5")
        let a = directory.appendingPathComponent("a.onnx").path, b = directory.appendingPathComponent("b.onnx").path
        for out in [a, b] {
            let result = try runModelPress(["prune", model, "-o", out, "--sparsity", "0.8", "--scope", "global", "-q"])
            XCTAssertEqual(result.exitCode, 0, result.stderr)
            XCTAssertEqual(result.stdout, "")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
        let graph = try ModelLoader.load(a)
        let summary = try XCTUnwrap(graph.metadata["modelpress.compression"])
        XCTAssertTrue(summary.contains("\"scope\":\"global\"") && summary.contains("\"structure\":\"unstructured\""), summary)
    }

    func testBadInputExitsTwoAndWritesNothing() throws {
        let out = directory.appendingPathComponent("bad.onnx").path
        let model = Fixtures.path("models/keras3/cnn.h5")
        let cases: [([String], String)] = [
            (["--sparsity", "1"], "outside [0, 1)"),
            (["--sparsity=-0.2"], "outside [0, 1)"),
            (["--sparsity", "nan"], "outside [0, 1)"),
            ([], "--sparsity (or --sparsity-per-layer) is required"),
            (["--sparsity", "0.5", "--sparsity-per-layer", "conv_2=0.5,nope=0.5"], "--sparsity-per-layer: no prunable layer named 'nope'"),
            (["--sparsity", "0.5", "--schedule", "gradual"], "is invalid for '--schedule"),
            (["--sparsity", "0.5", "--distill-from-original"], "--distill-from-original needs --fine-tune-data"),
            (["--sparsity", "0.5", "--exclude", "nope"], "prunable layers: conv_1 (conv_1/conv), conv_2"),
            (["--sparsity", "0.5", "--scope", "wide"], "is invalid for '--scope"),
            (["--structure", "2:4", "--sparsity", "0.7"], "2:4"),
            (["--structure", "2:4", "--scope", "global"], "global"),
        ]
        for (arguments, message) in cases {
            let result = try runModelPress(["prune", model, "-o", out] + arguments)
            XCTAssertEqual(result.exitCode, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
    }
}
