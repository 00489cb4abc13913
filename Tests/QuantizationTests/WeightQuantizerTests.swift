import Quantization
import TensorCore
import Testing

/// Per-channel symmetric int8 weights and int32 biases, worked by hand.
@Suite("weight quantization")
struct WeightQuantizerTests {
    /// Dense weights K×M = 2×3, output channels along axis 1:
    /// channel 0: max 0.5 → s = 0.5/127; 0.5 → 127, −0.125 → −31.75 → −32
    /// channel 1: max 1.27 → s = 0.01; −1.27 → −127, 0.63 → 63
    /// channel 2: all zero → s = 1 (any scale is exact), q = 0.
    @Test("dense kernel, per output channel (axis 1)")
    func denseKernel() throws {
        let w = try Tensor(shape: [2, 3], storage: [0.5, -1.27, 0, -0.125, 0.63, 0])
        let q = WeightQuantizer.symmetricInt8(w, axis: 1)
        #expect(q.type == .int8 && q.axis == 1 && q.zeroPoints == [0, 0, 0])
        #expect(abs(q.scales[0] - 0.5 / 127) < 1e-9)
        #expect(abs(q.scales[1] - 0.01) < 1e-9)
        #expect(q.scales[2] == 1)
        let integers = w.storage.enumerated().map { i, x in q.quantize(x, channel: i % 3) }
        #expect(integers == [127, -127, 0, -32, 63, 0])
        var fake = w
        q.fakeQuantize(&fake)
        let expected: [Float] = [0.5, -1.27, 0, -32 * 0.5 / 127, 0.63, 0]
        for (a, b) in zip(fake.storage, expected) { #expect(abs(a - b) < 1e-6, "\(a) vs \(b)") }
    }

    /// Conv weights OIHW = 2×1×1×2, output channels along axis 0:
    /// channel 0: [1, −0.25] → s = 1/127; q = [127, −31.75 → −32]
    /// channel 1: [0.02, 0.254] → s = 0.002; q = [10, 127].
    @Test("conv kernel, per output channel (axis 0)")
    func convKernel() throws {
        let w = try Tensor(shape: [2, 1, 1, 2], storage: [1, -0.25, 0.02, 0.254])
        let q = WeightQuantizer.symmetricInt8(w, axis: 0)
        #expect(q.axis == 0 && q.scales.count == 2)
        #expect(abs(q.scales[0] - 1.0 / 127) < 1e-9 && abs(q.scales[1] - 0.002) < 1e-9)
        let integers = w.storage.enumerated().map { i, x in q.quantize(x, channel: i / 2) }
        #expect(integers == [127, -32, 10, 127])
    }

    @Test("per tensor: one scale from the largest magnitude")
    func perTensor() throws {
        let w = try Tensor(shape: [2, 2], storage: [0.5, -1.27, 0.01, 0.63])
        let q = WeightQuantizer.symmetricInt8(w, axis: nil)
        #expect(q.axis == nil && q.scales.count == 1 && abs(q.scales[0] - 0.01) < 1e-9)
        #expect(w.storage.map { q.quantize($0) } == [50, -127, 1, 63])
    }

    /// Bias scale = s_in · s_w,c: 0.1 · [0.01, 0.02] = [0.001, 0.002]; 0.0123 → 12, −0.05 → −25.
    @Test("int32 bias with scale s_in · s_w per channel")
    func bias() {
        let w = TensorQuantization(scales: [0.01, 0.02], zeroPoints: [0, 0], axis: 1, type: .int8)
        let b = WeightQuantizer.int32Bias(inputScale: 0.1, weights: w)
        #expect(b.type == .int32 && b.axis == 0 && b.zeroPoints == [0, 0])
        #expect(abs(b.scales[0] - 0.001) < 1e-9 && abs(b.scales[1] - 0.002) < 1e-9)
        #expect(b.quantize(0.0123, channel: 0) == 12 && b.quantize(-0.05, channel: 1) == -25)
        // Bias values far beyond the int8 range stay exact in int32.
        #expect(b.quantize(1000, channel: 0) == 1_000_000)
    }

    @Test("activation parameters: uint8 asymmetric with exact zero, int8 symmetric")
    func activations() {
        let u = StaticQuantizer.activation(lo: -1, hi: 3, type: .uint8)
        #expect(abs(u.scales[0] - 4.0 / 255) < 1e-7 && u.zeroPoints == [64] && u.type == .uint8)
        #expect(u.dequantize(u.quantize(0)) == 0)
        let relu = StaticQuantizer.activation(lo: 0.2, hi: 2.55, type: .uint8)
        #expect(relu.zeroPoints == [0] && abs(relu.scales[0] - 0.01) < 1e-7)
        let s = StaticQuantizer.activation(lo: -2.54, hi: 1, type: .int8)
        #expect(s.zeroPoints == [0] && abs(s.scales[0] - 0.02) < 1e-7 && s.type == .int8)
    }

    @Test("annotations are validated against the value's shape")
    func validation() {
        let q = TensorQuantization(scales: [1, 1], zeroPoints: [0, 0], axis: 0, type: .int8)
        let fail = { (m: String) in ModelPressError.internalError(m) }
        #expect(throws: ModelPressError.self) { try q.validate(for: [3, 4], fail) }
        #expect(throws: Never.self) { try q.validate(for: [2, 4], fail) }
        let bad = TensorQuantization(scales: [0], zeroPoints: [0], axis: nil, type: .uint8)
        #expect(throws: ModelPressError.self) { try bad.validate(for: [2], fail) }
    }
}
