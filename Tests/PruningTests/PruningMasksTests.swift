import Pruning
import TensorCore
import XCTest

/// Masks taken from a pruned graph hold the pruned weights at zero after updates.
final class PruningMasksTests: XCTestCase {
    func testMasksReapplyAfterAnUpdate() throws {
        let (pruned, report) = try MagnitudePruning(PruningConfiguration(sparsity: 0.5, exclude: ["fc2"])).prune(SmallGraphs.mlp())
        let masks = PruningMasks(graph: pruned, report: report)
        XCTAssertEqual(masks.zeroed.keys.sorted(), ["w1"])  // fc2 excluded, biases never masked
        XCTAssertEqual(masks.zeroed["w1"]?.count, 48)

        // A "training step" moves every weight; the masks put the pruned ones back to zero.
        let names = ["w1", "b1", "w2"]
        var parameters = try names.map { name -> Tensor in
            var t = try XCTUnwrap(pruned.initializers[name])
            t.storage = t.storage.map { $0 + 0.25 }
            return t
        }
        try masks.apply(to: &parameters, names: names)
        XCTAssertEqual(parameters[0].storage.filter { $0 == 0 }.count, 48)
        XCTAssertEqual(parameters[1].storage.filter { $0 == 0 }.count, 0)
        XCTAssertEqual(parameters[2].storage.filter { $0 == 0 }.count, 0)
        let original = try XCTUnwrap(pruned.initializers["w1"]).storage
        for (after, before) in zip(parameters[0].storage, original) where before != 0 {
            XCTAssertEqual(after, before + 0.25)
        }
        XCTAssertThrowsError(try masks.apply(to: &parameters, names: ["w1"]))
    }
}
