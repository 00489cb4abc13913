import Quantization
import TensorCore
import Testing

/// Affine parameters and (de)quantization, worked by hand.
@Suite("affine quantization parameters")
struct QuantizationParameterTests {
    @Test("asymmetric uint8 over [−1, 3]")
    func asymmetric() {
        let q = TensorQuantization.asymmetric(min: -1, max: 3, type: .uint8)
        #expect(q.scales == [Float(4) / 255])
        #expect(q.zeroPoints == [64])  // round(0 − (−1)/(4/255)) = round(63.75)
        #expect(q.quantize(0) == 64)  // zero is exact
        #expect(q.dequantize(64) == 0)
        #expect(q.quantize(3) == 255)  // round(191.25) + 64
        #expect(q.quantize(-2) == 0)  // clamped
    }

    @Test("range not containing zero is widened to include it")
    func widened() {
        let q = TensorQuantization.asymmetric(min: 2, max: 4, type: .uint8)
        #expect(q.zeroPoints == [0])
        #expect(q.scales == [Float(4) / 255])
    }

    @Test("symmetric int8: ±bound exact, zero point 0, half-to-even rounding")
    func symmetric() {
        let q = TensorQuantization.symmetric(bound: 2, type: .int8)
        #expect(q.zeroPoints == [0])
        #expect(q.quantize(2) == 127)
        #expect(q.quantize(-2) == -127)
        #expect(q.quantize(5) == 127)
        let unit = TensorQuantization(scales: [1], zeroPoints: [0], axis: nil, type: .int8)
        #expect(unit.quantize(2.5) == 2)
        #expect(unit.quantize(3.5) == 4)
        #expect(unit.quantize(-2.5) == -2)
        #expect(unit.quantize(.infinity) == 127)
    }

    @Test("power-of-two scales round up (no extra clipping)")
    func powerOfTwo() {
        let q = TensorQuantization(scales: [0.3, 0.25, 0.0009], zeroPoints: [0, 0, 0], axis: 0, type: .int8).powerOfTwo()
        #expect(q.scales == [0.5, 0.25, 0.0009765625])
    }
}
