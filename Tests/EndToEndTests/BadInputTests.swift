import Foundation
import Testing
import _TestSupport

/// Bad input gets exit code 2 and one clear message naming the file / layer; nothing crashes
/// and no output file appears.
@Suite("Bad input → exit 2 with a clear message")
struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let mentions: [String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(arguments: ["inspect", "fixtures/models/bad/missing.h5"], mentions: ["missing.h5", "no such file"]),
        Case(arguments: ["inspect", "fixtures/models/bad/not_hdf5.h5"], mentions: ["not_hdf5.h5", "not a Keras HDF5"]),
        Case(arguments: ["inspect", "fixtures/models/bad/truncated.h5"], mentions: ["truncated.h5", "truncated"]),
        Case(arguments: ["inspect", "fixtures/models/bad/unsupported_conv3d.h5"], mentions: ["'conv3d'", "Conv3D", "not supported"]),
        Case(arguments: ["inspect", "fixtures/models/bad/lambda.h5"], mentions: ["'lambda'", "Lambda", "never executes"]),
        Case(arguments: ["inspect", "fixtures/models/bad/custom_layer.h5"], mentions: ["ScaleByVector", "custom class"]),
        Case(arguments: ["inspect", "fixtures/models/bad/bad_shape.h5"], mentions: ["'dense_2'", "[64, 128]", "[128, 64]"]),
        Case(arguments: ["inspect", "fixtures/data/digits_test.h5"], mentions: ["not a Keras model", "--data"]),
        Case(
            arguments: ["inspect", "fixtures/models/keras3/functional.weights.h5", "--architecture", "fixtures/nope.json"],
            mentions: ["nope.json"]),
        Case(
            arguments: ["eval", "fixtures/models/keras3/cnn.h5", "--data", "fixtures/data/digits_test.h5", "--x-key", "pixels"],
            mentions: ["'/pixels'", "x, x_flat, y"]),
        Case(
            arguments: ["eval", "fixtures/models/keras3/cnn.h5", "--data", "fixtures/models/bad/dataset_no_y.h5"],
            mentions: ["'/y'", "dataset_no_y.h5"]),
        Case(
            arguments: ["predict", "fixtures/models/keras3/cnn.h5", "--data", "fixtures/data/zoo_inputs.h5", "-o", "/tmp/modelpress-never.h5"],
            mentions: ["zoo_inputs.h5", "[16, 16, 3]", "[8, 8, 1]"]),
        Case(
            arguments: ["eval", "fixtures/models/keras3/cnn.h5", "--data", "fixtures/data/digits_test.h5", "--batch-size", "0"],
            mentions: ["--batch-size"]),
        Case(arguments: ["eval", "fixtures/models/keras3/cnn.h5"], mentions: ["--data"]),
        Case(arguments: ["frobnicate"], mentions: ["frobnicate"]),
    ]

    @Test("exit 2, message names what is wrong", arguments: cases)
    func badInput(_ c: Case) throws {
        let result = try runModelPress(c.arguments)
        #expect(result.exitCode == 2, "stderr: \(result.stderr)")
        for m in c.mentions { #expect(result.stderr.contains(m), "stderr should mention \(m): \(result.stderr)") }
        #expect(!result.stderr.contains("Fatal error"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/modelpress-never.h5"))
    }

    @Test("a non-finite input value is refused with the sample index")
    func nonFiniteInput() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("nan.h5").path
        try writeDataset(
            path: data, x: [Float](repeating: 0.5, count: 3 * 64).enumerated().map { $0.offset == 70 ? .nan : $0.element },
            shape: [3, 8, 8, 1], y: [0, 1, 2])
        let result = try runModelPress(["eval", "fixtures/models/keras3/cnn.h5", "--data", data])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("sample 1") && result.stderr.contains("non-finite"), "\(result.stderr)")
    }

    @Test("a label outside the model's classes is refused")
    func labelOutOfRange() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("labels.h5").path
        try writeDataset(path: data, x: [Float](repeating: 0.5, count: 2 * 64), shape: [2, 8, 8, 1], y: [3, 12])
        let result = try runModelPress(["eval", "fixtures/models/keras3/cnn.h5", "--data", data])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("label 12.0 of sample 1"), "\(result.stderr)")
    }

    @Test("an output in a missing directory fails before any file is written")
    func missingOutputDirectory() throws {
        let result = try runModelPress([
            "predict", "fixtures/models/keras3/mlp.h5", "--data", "fixtures/data/digits_test.h5",
            "-o", "/tmp/modelpress-no-such-dir/out.h5",
        ])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("does not exist"))
    }
}
