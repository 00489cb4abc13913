import TensorCore
import XCTest

/// `Graph.activationMemory()` on a graph worked by hand.
final class ActivationMemoryTests: XCTestCase {
    func testPeakIsTheLargestLiveSetInNodeOrder() throws {
        // input [N,10] → dense [N,20] → relu [N,20] → sum = dense + relu [N,20] (output).
        var m = try GraphMaker("g", input: [10])
        let w = try m.weight("w", [10, 20]), b = try m.weight("b", [20])
        try m.add("dense", .linear, ["input", w, b])
        try m.add("relu", .activation(.relu), ["dense"])
        try m.add("sum", .elementwise(.add), ["dense", "relu"])
        m.outputs("sum")
        // Before dense: input 40 B. dense: +80 = 120, input freed → 80. relu: +80 = 160 (dense
        // still read by sum). sum: +80 = 240, the peak; dense and relu freed → 80.
        let float = m.graph.activationMemory()
        XCTAssertEqual([float.peakBytes, float.totalBytes], [240, 280])
        XCTAssertEqual(float.peakNode, "sum")
        // int8 activations take a byte each: dense and relu stored int8 → 20 + 20 + 80 = 120 at sum
        // (the input was freed after dense); 40 + 20 + 20 + 80 = 160 without reuse.
        var quantized = m.graph
        for name in ["dense", "relu"] {
            quantized.quantization[name] = TensorQuantization(scales: [0.1], zeroPoints: [0], axis: nil, type: .int8)
        }
        let int8 = quantized.activationMemory()
        XCTAssertEqual([int8.peakBytes, int8.totalBytes], [120, 160])
        XCTAssertEqual(int8.peakNode, "sum")
    }
}
