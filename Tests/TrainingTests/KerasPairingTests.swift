import Foundation
import TensorCore
import Testing
import Training
import _TestSupport

/// What makes the Keras comparison in docs/benchmarks.md paired: the Python port of the shuffle
/// stream (fixtures/make_fixtures.py `ModelPressShuffle`, which orders the Keras paired runs)
/// gives the order `TrainingRandom` gives; the validation split is Keras 3's; and one paired run,
/// from the committed Keras initial weights, ends where Keras ended (committed accuracies).
@Suite(.serialized) struct KerasPairingTests {
    static func reference() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("reference/distill_keras.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func shuffleOrderMatchesThePythonPortKerasTrainsOn() throws {
        let paired = try #require(try Self.reference()["paired"] as? [String: Any])
        let check = try #require(paired["order_check"] as? [String: [Int]])
        var random = TrainingRandom(seed: 1, stream: .shuffle)
        for epoch in 1...2 {
            var order = Array(0..<1437)
            random.shuffle(&order)
            #expect(Array(order.prefix(16)) == check["seed1_epoch\(epoch)_first16"], "epoch \(epoch)")
        }
    }

    @Test func validationSplitIsKeras3s() throws {
        // Keras 3: split_at = floor(N·(1 − f)); 1437·0.9 = 1293.3 → 1293 + 144; 10·0.7 → 7 + 3.
        for (n, f, train) in [(1437, 0.1, 1293), (10, 0.3, 7), (5, 0.5, 2)] {
            let set = try TrainingSet(inputs: try Tensor(shape: [n, 1], storage: (0..<n).map(Float.init)), labels: Array(0..<n), teacherLogits: nil)
            let (a, b) = try set.split(validationFraction: f)
            #expect(a.count == train && b.count == n - train, "N \(n), fraction \(f)")
            #expect(b.labels?.first == train, "the validation part is the tail")
        }
    }

    @Test func pairedRunEndsWhereKerasEnded() throws {
        // Seed 1, 30 epochs of the acceptance recipe from Keras's initial weights on ModelPress's
        // order. Float rounding differs (summation order), so the runs drift apart slowly; the
        // final test accuracy must stay within 3 of the 360 test samples of Keras's.
        let reference = try Self.reference()
        let paired = try #require(reference["paired"] as? [String: Any])
        let keras = try #require((paired["distill"] as? [String: Any])?["accuracies"] as? [Double])
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("log.json").path
        let result = try runModelPress(
            [
                "distill", "--teacher", Fixtures.path("models/keras3/mlp.h5"),
                "--student", Fixtures.path("reference/distill_init/seed1.h5"),
                "--data", Fixtures.path("data/digits_train.h5"), "--student-x-key", "x_flat",
                "--validation", Fixtures.path("data/digits_test.h5"), "--epochs", "30", "--seed", "1",
                "-o", dir.appendingPathComponent("s.onnx").path, "--log", log, "-q",
            ],
            environment: ["HDF5_USE_FILE_LOCKING": "FALSE"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: log))) as? [String: Any])
        let accuracy = try #require(json["val_accuracy"] as? Double)
        #expect(abs(accuracy - keras[0]) <= 3.0 / 360 + 1e-9, "ModelPress \(accuracy) vs Keras \(keras[0])")
    }
}
