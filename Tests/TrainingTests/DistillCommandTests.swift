import Foundation
import ModelIO
import ModelLoading
import Testing
import _TestSupport

/// `modelpress distill` / `train` end to end (runs the built binary): outputs, determinism,
/// and every bad input the issue lists exiting 2.
@Suite(.serialized) struct DistillCommandTests {
    /// HDF5 file locks are held by every process that inherited a descriptor of a file being
    /// written (tests run in parallel and spawn processes); the binary's reads must not trip on them.
    func modelpress(_ arguments: [String]) throws -> CommandResult {
        try runModelPress(arguments, environment: ["HDF5_USE_FILE_LOCKING": "FALSE"])
    }

    let teacher = Fixtures.path("models/keras3/mlp.h5")
    let train = Fixtures.path("data/digits_train.h5")
    let test = Fixtures.path("data/digits_test.h5")

    @Test func distillWritesAnONNXStudentAndALogDeterministically() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var outputs: [Data] = []
        for run in 0..<2 {
            let out = dir.appendingPathComponent("student\(run).onnx").path, log = dir.appendingPathComponent("log\(run).json").path
            let result = try modelpress([
                "distill", "--teacher", teacher, "--student", "dense:32", "--data", train, "--student-x-key", "x_flat",
                "-o", out, "--epochs", "3", "--seed", "7", "--validation", test, "--log", log,
            ])
            #expect(result.exitCode == 0, "\(result.stderr)")
            #expect(result.stderr.contains("final softmax was stripped"))
            #expect(result.stderr.contains("epoch 3/3"))
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
            let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: log))) as? [String: Any]
            #expect((json?["epochs"] as? [Any])?.count == 3)
            #expect(json?["teacher_logits"] as? String == "stripped-softmax")
            // The written ONNX scores on the test set what the log says.
            let eval = try modelpress(["eval", out, "--data", test, "--x-key", "x_flat", "--json", "-q"])
            let accuracy = (try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])?["accuracy"] as? Double
            #expect(accuracy != nil && abs((accuracy ?? 0) - ((json?["val_accuracy"] as? Double) ?? -1)) < 1e-9)
        }
        #expect(outputs[0] == outputs[1], "same seed, same recipe: the ONNX bytes differ")
    }

    @Test func mixupDistillationIsDeterministicWithAndWithoutFeatures() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The lstm: spec reads the 8×8×1 digits as 8 steps of 8 pixels; the teacher relabels every
        // blended batch, and with --match computes its features on the blended rows too.
        for (student, extra) in [("lstm:4", [String]()), ("dense:16", ["--match", "dense_2:dense_1"])] {
            var outputs: [Data] = []
            for run in 0..<2 {
                let out = dir.appendingPathComponent("mixup\(extra.count)-\(run).onnx").path
                let result = try modelpress(
                    [
                        "distill", "--teacher", teacher, "--student", student, "--data", train, "-o", out,
                        "--epochs", "1", "--seed", "3", "--mixup", "--temperature", "1", "--alpha", "0.5",
                    ] + extra)
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(result.stderr.contains("the teacher labels the blended rows"))
                #expect(extra.isEmpty || result.stderr.contains("feature distillation: teacher 'dense_2' ↔ student 'dense_1/relu'"))
                outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
            }
            #expect(outputs[0] == outputs[1], "same seed: the mixup draws and the ONNX bytes must repeat")
        }
    }

    @Test func trainWithEarlyStoppingAndReshapedInputs() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // x is 8×8×1; the spec student takes it as is (Flatten first).
        let result = try modelpress([
            "train", "--student", "dense:16", "--data", train, "-o", dir.appendingPathComponent("t.onnx").path,
            "--epochs", "4", "--validation-split", "0.2", "--early-stopping", "1", "--optimizer", "sgd",
            "--momentum", "0.9", "--nesterov", "--learning-rate", "0.05", "--lr-schedule", "cosine:1",
        ])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.contains("best epoch"))
    }

    @Test func checkpointStudentKeepsItsSoftmaxAndTeacherLogitsAreCached() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = dir.appendingPathComponent("cache").path, out = dir.appendingPathComponent("s.onnx").path
        // A Keras checkpoint student (its weights are the start), unlabeled data: pure soft labels.
        let arguments = [
            "distill", "--teacher", Fixtures.path("models/keras3/cnn.h5"), "--student", teacher, "--data", train,
            "-o", out, "--epochs", "1", "--y-key", "none", "--teacher-cache", cache,
        ]
        let first = try modelpress(arguments)
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(first.stderr.contains("computed once") && first.stderr.contains("pure soft-label"))
        let second = try modelpress(arguments)
        #expect(second.exitCode == 0 && second.stderr.contains("from the cache"), "\(second.stderr)")
        // The written student still ends in the softmax its checkpoint had.
        let graph = try ModelLoader.load(out)
        if case .softmax? = graph.nodes.last?.op {} else { Issue.record("the student's final softmax was not re-attached") }
        let eval = try modelpress(["eval", out, "--data", test, "-q"])
        #expect(eval.exitCode == 0)
    }

    func expectBadInput(_ arguments: [String], mentions: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try modelpress(arguments)
        #expect(result.exitCode == 2, "exit \(result.exitCode): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(mentions), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test func badInputsExitTwo() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("o.onnx").path
        // Teacher and student class counts differ (zoo_misc has 29 outputs).
        try expectBadInput(
            ["distill", "--teacher", teacher, "--student", Fixtures.path("models/keras3/zoo_misc.h5"), "--data", train, "-o", out],
            mentions: "has 10 classes but the student")
        // Input sizes cannot be matched (16×16×3 images for an 8×8×1 teacher).
        try expectBadInput(
            ["distill", "--teacher", teacher, "--student", "dense:8", "--data", Fixtures.path("data/zoo_inputs.h5"), "--y-key", "none", "-o", out],
            mentions: "cannot be matched")
        // Labels out of range for a 10-class teacher.
        let badLabels = dir.appendingPathComponent("labels.h5").path
        try writeDataset(path: badLabels, x: [Float](repeating: 0.5, count: 3 * 64), shape: [3, 64], y: [1, 12, 3])
        try expectBadInput(["distill", "--teacher", teacher, "--student", "dense:8", "--data", badLabels, "-o", out], mentions: "label 12.0 of sample 1")
        // Empty dataset.
        let empty = dir.appendingPathComponent("empty.h5").path
        try writeDataset(path: empty, x: [], shape: [0, 64], y: [])
        try expectBadInput(["train", "--student", "dense:8", "--data", empty, "-o", out], mentions: "empty")
        // Divergence names the epoch and batch.
        try expectBadInput(
            [
                "train", "--student", "dense:8", "--data", train, "--x-key", "x_flat", "-o", out, "--optimizer", "sgd",
                "--learning-rate", "1e30", "--epochs", "2",
            ], mentions: "at epoch 1, batch")
        // Output that is not ONNX; early stopping without validation.
        try expectBadInput(["train", "--student", "dense:8", "--data", train, "-o", dir.appendingPathComponent("o.h5").path], mentions: "*.onnx")
        try expectBadInput(["train", "--student", "dense:8", "--data", train, "-o", out, "--early-stopping", "2"], mentions: "needs validation data")
        #expect(!FileManager.default.fileExists(atPath: out), "a failed command left an output")
    }

    @Test func moreBadInputsExitTwo() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("o.onnx").path
        // A NaN in the inputs is refused before training, naming the sample.
        var x = [Float](repeating: 0.25, count: 4 * 64)
        x[2 * 64 + 5] = .nan
        let nan = dir.appendingPathComponent("nan.h5").path
        try writeDataset(path: nan, x: x, shape: [4, 64], y: [0, 1, 2, 3])
        try expectBadInput(["distill", "--teacher", teacher, "--student", "dense:8", "--data", nan, "-o", out], mentions: "sample 2 holds a non-finite value")
        // Negative labels; an empty validation file; hard-label training without labels.
        let negative = dir.appendingPathComponent("negative.h5").path
        try writeDataset(path: negative, x: [Float](repeating: 0.5, count: 3 * 64), shape: [3, 64], y: [1, -1, 3])
        try expectBadInput(["train", "--student", "dense:8", "--data", negative, "-o", out], mentions: "label -1.0 of sample 1")
        let empty = dir.appendingPathComponent("empty.h5").path
        try writeDataset(path: empty, x: [], shape: [0, 64], y: [])
        try expectBadInput(["distill", "--teacher", teacher, "--student", "dense:8", "--data", train, "--validation", empty, "-o", out], mentions: "is empty")
        try expectBadInput(["train", "--student", "dense:8", "--data", train, "--y-key", "none", "-o", out], mentions: "train needs labels")
        // A spec student whose output cannot match the teacher's 10 classes.
        let spec = dir.appendingPathComponent("student.json").path
        try Data(#"{"input": [64], "layers": [{"dense": {"units": 12, "activation": "softmax"}}]}"#.utf8).write(to: URL(fileURLWithPath: spec))
        try expectBadInput(
            ["distill", "--teacher", teacher, "--student", spec, "--data", train, "--student-x-key", "x_flat", "-o", out],
            mentions: "must end with {\"dense\": {\"units\": 10}}")
        // Distillation diverging names the epoch and batch too.
        try expectBadInput(
            [
                "distill", "--teacher", teacher, "--student", "dense:8", "--data", train, "--student-x-key", "x_flat", "-o", out,
                "--optimizer", "sgd", "--learning-rate", "1e30",
            ], mentions: "at epoch 1, batch")
        #expect(!FileManager.default.fileExists(atPath: out), "a failed command left an output")
    }
}
