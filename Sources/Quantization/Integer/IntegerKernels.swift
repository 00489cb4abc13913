import TensorCore

/// Integer-only Conv and Dense as edge runtimes compute them: int32 accumulation of
/// `(x − zp_x)·(w − zp_w)`, plus the int32 bias, requantized per output channel with a
/// `FixedPointMultiplier` (`M_c = s_x·s_w,c / s_y`), plus `zp_y`, saturated to the output type.
enum IntegerKernels {
    /// Conv, NCHW: `x` N×C×H×W integers (zero point already subtracted), `w` O×(C/g)×kh×kw
    /// integers (zero point subtracted), `bias` O or empty; returns N×O×OH×OW requantized values.
    static func conv2D(
        _ x: [Int32], shape: [Int], weights w: [Int32], weightShape: [Int], bias: [Int32],
        attributes a: Conv2DAttributes, multipliers: [FixedPointMultiplier], output: TensorQuantization,
        rounding: RequantizationRounding
    ) -> ([Int32], [Int]) {
        let (n, c, h, wd) = (shape[0], shape[1], shape[2], shape[3])
        let o = weightShape[0], cg = weightShape[1], kh = weightShape[2], kw = weightShape[3]
        let oh = (h + a.pads.top + a.pads.bottom - a.dilations.height * (kh - 1) - 1) / a.strides.height + 1
        let ow = (wd + a.pads.left + a.pads.right - a.dilations.width * (kw - 1) - 1) / a.strides.width + 1
        let og = o / a.group
        var out = [Int32](repeating: 0, count: n * o * oh * ow)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    for b in 0..<n {
                        for oc in 0..<o {
                            let g = oc / og
                            for y in 0..<oh {
                                for xo in 0..<ow {
                                    var acc: Int32 = bias.isEmpty ? 0 : bias[oc]
                                    for ci in 0..<cg {
                                        let channel = g * cg + ci
                                        for i in 0..<kh {
                                            let row = y * a.strides.height - a.pads.top + i * a.dilations.height
                                            guard row >= 0 && row < h else { continue }
                                            for j in 0..<kw {
                                                let col = xo * a.strides.width - a.pads.left + j * a.dilations.width
                                                guard col >= 0 && col < wd else { continue }
                                                acc &+= xp[((b * c + channel) * h + row) * wd + col] &* wp[((oc * cg + ci) * kh + i) * kw + j]
                                            }
                                        }
                                    }
                                    op[((b * o + oc) * oh + y) * ow + xo] = requantize(acc, multipliers[multipliers.count == 1 ? 0 : oc], output, rounding)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (out, [n, o, oh, ow])
    }

    /// Dense: `x` N×K integers (zero point subtracted), `w` K×M integers, `bias` M or empty.
    static func linear(
        _ x: [Int32], rows: Int, k: Int, weights w: [Int32], m: Int, bias: [Int32],
        multipliers: [FixedPointMultiplier], output: TensorQuantization, rounding: RequantizationRounding
    ) -> [Int32] {
        var out = [Int32](repeating: 0, count: rows * m)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                for r in 0..<rows {
                    for col in 0..<m {
                        var acc: Int32 = bias.isEmpty ? 0 : bias[col]
                        for i in 0..<k { acc &+= xp[r * k + i] &* wp[i * m + col] }
                        out[r * m + col] = requantize(acc, multipliers[multipliers.count == 1 ? 0 : col], output, rounding)
                    }
                }
            }
        }
        return out
    }

    /// `clamp(zp_y + M·acc)` with the fixed-point multiplier; a power-of-two `M` (`--scheme
    /// pow2`) is applied as a pure shift rounding half to even, in either mode (no multiply).
    @inline(__always)
    static func requantize(_ acc: Int32, _ m: FixedPointMultiplier, _ output: TensorQuantization, _ rounding: RequantizationRounding) -> Int32 {
        let scaled = m.powerOfTwoExponent.map { FixedPointMultiplier.shift(acc, by: $0) } ?? m.apply(acc, rounding: rounding)
        let v = Int64(scaled) + Int64(output.zeroPoints[0])
        return Int32(max(output.type.min, min(output.type.max, v)))
    }
}
